"""Exercise 31: CLIP's zero-shot classifier worked on small stated embeddings, against a supervised head."""

from symconv import Exercise, Rounded, Table, Text, Worked, derive, linear_params
from symconv.core.errors import invalid
from symconv.teaching.domains import AnswerParts, Choice, Constraint, IntMatrix, IntTuple

CLASSES = ("dog", "cat", "car")
PROMPT = "a photo of a {}"


def sqrt(x):
    """Exact square root (sympy is imported only when a cosine is worked out)."""
    import sympy

    return sympy.sqrt(x)


def cosine_similarity(dot_ut, dot_uu, dot_tt):
    return dot_ut / sqrt(dot_uu * dot_tt)


def logit(scale, cos):
    return scale * cos


def dot(u, v):
    return sum(a * b for a, b in zip(u, v))


def softmax(logits):
    """Probabilities to 30 digits from exact logits, shifted by the largest so no exponential overflows."""
    import sympy

    logits = [sympy.sympify(value) for value in logits]
    top = max(logits, key=lambda value: value.evalf(30))
    weights = [sympy.exp(value - top) for value in logits]
    total = sum(weights)
    return [(weight / total).evalf(30) for weight in weights]


def top_probability(params):
    """The largest softmax probability, in floats: enough to steer variants away from near-certain or tied cases."""
    import math

    image, texts, scale = params["image_embedding"], params["text_embeddings"], params["logit_scale"]
    logits = [scale * dot(image, text) / math.sqrt(dot(image, image) * dot(text, text)) for text in texts]
    weights = [math.exp(value - max(logits)) for value in logits]
    return max(weights) / sum(weights)


def _check(params):
    image, texts, scale = params["image_embedding"], params["text_embeddings"], params["logit_scale"]
    if not any(image):
        raise invalid("image_embedding", image, "must not be the zero vector")
    if len(texts) != len(CLASSES):
        raise invalid("text_embeddings", texts, f"must hold one vector per class {CLASSES}")
    for text in texts:
        if len(text) != len(image) or not any(text):
            raise invalid("text_embeddings", texts, f"must be non-zero vectors of length {len(image)}, like the image embedding")
    if not scale > 0:
        raise invalid("logit_scale", scale, "must be positive")


def solve(params):
    _check(params)
    image, texts, scale = tuple(params["image_embedding"]), [tuple(t) for t in params["text_embeddings"]], params["logit_scale"]
    cosines = [
        derive(cosine_similarity, dot(image, text), dot(image, image), dot(text, text), lhs=f"cos_{name}", unit="")
        for name, text in zip(CLASSES, texts)
    ]
    logits = [logit(scale, cosine.value) for cosine in cosines]
    probabilities = softmax(logits)
    best = max(range(len(CLASSES)), key=lambda index: probabilities[index])
    others = [index for index in range(len(CLASSES)) if index != best]
    head = derive(linear_params, len(image), len(CLASSES), lhs="P_head")
    return Worked(
        blocks=(
            Text(
                "Why zero-shot classification works. CLIP (Radford et al. 2021) trains an image encoder and a text "
                "encoder together, contrastively, on 400 million image-text pairs collected from the web: in each "
                "batch the embeddings of every image and its own caption are pulled together, those of every "
                "image with the other captions pushed apart (a cross-entropy over their cosine similarities, in "
                "both directions). Captions name an open vocabulary of objects, scenes and styles, so the text "
                "encoder learns to place a phrase near the images it describes, including phrases that are class "
                "names. To classify without any labelled example, write one caption per class, such as "
                f"“{PROMPT.format(CLASSES[0])}”, embed the captions, and pick the class whose caption points most "
                "nearly the same way as the image, by cosine similarity $\\mathrm{cos}(u, t) = u \\cdot t / "
                "(|u|\\,|t|)$, with $u$ the image embedding, $t$ a caption's embedding and $|u|^2 = u \\cdot u$. "
                "In the working, $\\text{dot}_{\\text{ut}}$, $\\text{dot}_{\\text{uu}}$ and $\\text{dot}_{\\text{tt}}$ "
                "stand for $u \\cdot t$, $u \\cdot u$ and $t \\cdot t$."
            ),
            Table(
                ("class", "text embedding $t$", "$u \\cdot t$", "$t \\cdot t$"),
                tuple((name, text, dot(image, text), dot(text, text)) for name, text in zip(CLASSES, texts)),
                caption=f"Image embedding u = {image}, u·u = {dot(image, image)}",
            ),
            *cosines,
            Text(
                "Cosines live in $[-1, 1]$, and for real CLIP embeddings they differ by hundredths, so CLIP multiplies them by a learned scale, the "
                "inverse of a softmax temperature, before the softmax. Training caps it at 100, and the "
                "released models sit at that cap; here it is {scale}. The logits are $l_c = {scale} \\cdot \\mathrm{cos}_c$ and "
                "$p_c = \\mathrm{softmax}(l)_c$: exponentiate each logit and divide by the sum over the classes.",
                {"scale": scale},
            ),
            Table(
                ("class", "cosine", "cosine (approx.)", "logit (approx.)", "probability (approx.)"),
                tuple(
                    (name, cosine.value, Rounded(cosine.value, 4), Rounded(value, 2), Rounded(probability, 4))
                    for name, cosine, value, probability in zip(CLASSES, cosines, logits, probabilities)
                ),
            ),
            Text(
                f"The {CLASSES[best]} prompt leads the others by cosines of "
                + " and ".join(f"{{cosine_lead{index}}}" for index in others)
                + ", which the scale turns into logit leads of "
                + " and ".join(f"{{logit_lead{index}}}" for index in others)
                + "; after the softmax it holds probability {p}.",
                {
                    "p": Rounded(probabilities[best], 4),
                    **{f"cosine_lead{index}": Rounded(cosines[best].value - cosines[index].value, 4) for index in others},
                    **{f"logit_lead{index}": Rounded(logits[best] - logits[index], 2) for index in others},
                },
            ),
            Text(
                "A supervised classifier on the same features is a linear head, from $F_{\\text{in}}$ = {dim} "
                "embedding features to $F_{\\text{out}}$ = {classes} classes, trained with labelled images of exactly "
                "these classes:",
                {"classes": len(CLASSES), "dim": len(image)},
            ),
            head,
            Text(
                "The zero-shot classifier has almost the same form: a {classes}×{dim} weight matrix, without "
                "biases, applied to the normalised image embedding $u/|u|$, whose rows are the normalised text "
                "embeddings $t_c/|t_c|$ times the scale. Nothing in it is trained for the task; the captions "
                "write it.",
                {"classes": len(CLASSES), "dim": len(image)},
            ),
            Text(
                "Against supervised feature extraction. The approach of extracting features with a backbone "
                "pretrained on a labelled dataset and training a linear head on them has a fixed label set: every "
                "class needs its own labelled images, and a new class means new data and another round of "
                "training. CLIP's classifier has an open vocabulary: a new class costs one more prompt. What the "
                "prompts buy is roughly what a few labels buy: Radford et al. found zero-shot CLIP about as "
                "accurate, on average over many datasets, as a linear probe trained on its own features with four "
                "labelled examples per class, and on ImageNet (their largest model) as accurate as a ResNet-50 trained with all 1.28 "
                "million labels. With many labels, the supervised head on the same features fits its own classes "
                "better. And zero-shot transfer is only as good as the web's captions: it is weak where they say "
                "little, in specialised domains such as medical or satellite images, fine-grained categories and "
                "counting, where labelled examples and a trained head still win."
            ),
        ),
        answers={
            "similarities": {name: float(cosine.value) for name, cosine in zip(CLASSES, cosines)},
            "probabilities": {name: float(probability) for name, probability in zip(CLASSES, probabilities)},
            "predicted_class": CLASSES[best],
        },
        conclusion=Text(
            f"The image is classified as {CLASSES[best]} with probability {{p}}; the cosines are "
            + ", ".join(f"{{cos_{name}}} for {name}" for name in CLASSES)
            + ". It needs no labelled image because contrastive training on 400 million image-text pairs put captions "
            "and images in one space; a supervised head needs labels for a fixed set of classes, but fits them better "
            "when labels are plentiful and in domains the web rarely captions.",
            {
                "p": Rounded(probabilities[best], 4),
                **{f"cos_{name}": Rounded(cosine.value, 4) for name, cosine in zip(CLASSES, cosines)},
            },
        ),
    )


EXERCISE = Exercise(
    number=31,
    title="Zero-shot classification with CLIP",
    question=(
        "An image embeds to $u = {image_embedding}$. The prompts “a photo of a dog”, “a photo of a cat” and "
        "“a photo of a car” embed to {text_embeddings}, in that order. Classify the image zero-shot as CLIP "
        "does, with logit scale {logit_scale}, and contrast this classifier with a linear head trained on "
        "labelled images."
    ),
    defaults={"image_embedding": (1, 2, 2, 0), "text_embeddings": ((1, 2, 2, 1), (2, 2, 2, 1), (0, 2, 1, 0)), "logit_scale": 100},
    solve=solve,
    topics=("zero-shot", "transfer learning"),
    # Small whole-number embeddings to work by hand; CLIP's own scale 100 or the softer scales of a temperature sweep.
    domains={
        "image_embedding": IntTuple(4, -1, 3),
        "text_embeddings": IntMatrix((len(CLASSES),), -1, 3, columns=4),
        "logit_scale": Choice(10, 20, 50, 100),
    },
    constraints=(
        Constraint(
            "no zero embedding",
            lambda p: any(p["image_embedding"]) and all(any(text) for text in p["text_embeddings"]),
        ),
        Constraint(
            "the image points more nearly one prompt's way than any other, but the scale decides how sure it is: "
            "top probability between 0.5 and 0.99",
            lambda p: 0.5 < top_probability(p) < 0.99,
        ),
    ),
    main_answer=AnswerParts(
        "similarities",
        "the cosine similarities and the probabilities (each within 0.1 % of its value)",
        tuple((f"the cosine for {name}", "similarities", (name,)) for name in CLASSES)
        + tuple((f"the probability of {name}", "probabilities", (name,)) for name in CLASSES),
    ),
)
