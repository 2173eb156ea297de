"""Exercise 34: ViT-B/16 against ResNet-50, parameter by parameter, and which to pick for a small data set."""

from fractions import Fraction

from symconv import (
    Exercise,
    Rounded,
    Table,
    Text,
    Worked,
    conv_output_size,
    conv_params,
    derive,
    formula,
    linear_params,
)

from ._architectures import resnet50_counts, total_of


@formula("params", "parameters")
def layernorm_params(D):
    """Layer normalisation over D features: a scale and a shift per feature."""
    return 2 * D


def attention_params(D):
    """Multi-head self-attention: one D → 3D projection for queries, keys and values, one D → D output projection."""
    return linear_params(D, 3 * D) + linear_params(D, D)


def mlp_params(D, D_mlp):
    return linear_params(D, D_mlp) + linear_params(D_mlp, D)


def encoder_block_params(P_ln, P_attn, P_mlp):
    """Pre-norm encoder block: a LayerNorm before attention and one before the MLP."""
    return 2 * P_ln + P_attn + P_mlp


def tokens(n_out):
    """One token per patch of the n × n grid, plus the class token."""
    return n_out**2 + 1


def position_params(T, D):
    return T * D


def vit_params(P_patch, P_cls, P_pos, L, P_block, P_ln, P_head):
    return P_patch + P_cls + P_pos + L * P_block + P_ln + P_head


def solve(params):
    size, patch, D, depth = params["image_size"], params["patch_size"], params["hidden"], params["layers"]
    classes, images = params["classes"], params["labelled_images"]
    patch_embedding = derive(conv_params, 3, D, patch, lhs="P_patch")
    grid = derive(conv_output_size, size, patch, patch, lhs="n_out", unit="patches")
    sequence = derive(tokens, grid.value, lhs="T", unit="tokens")
    position = derive(position_params, sequence.value, D, lhs="P_pos", unit="parameters")
    layernorm = derive(layernorm_params, D, lhs="P_ln")
    attention = derive(attention_params, D, lhs="P_attn", unit="parameters")
    mlp = derive(mlp_params, D, params["mlp_hidden"], lhs="P_mlp", unit="parameters")
    block = derive(encoder_block_params, layernorm.value, attention.value, mlp.value, lhs="P_block", unit="parameters")
    head = derive(linear_params, D, classes, lhs="P_head")
    total = derive(
        vit_params,
        patch_embedding.value,
        D,
        position.value,
        depth,
        block.value,
        layernorm.value,
        head.value,
        lhs="P_ViT",
        unit="parameters",
    )
    resnet = total_of(resnet50_counts(classes), "total")
    return Worked(
        blocks=(
            Text(
                "The image is cut into {patch}×{patch} patches, each flattened and projected to $D = {D}$ features: "
                "exactly a {patch}×{patch} convolution with stride {patch} and bias, from 3 channels to $D$.",
                {"patch": patch, "D": D},
            ),
            patch_embedding,
            Text("The patches form a grid of side"),
            grid,
            sequence,
            Text(
                "A learned class token ($D = {D}$ parameters) is prepended; its output feeds the classifier. Every token "
                "position gets a learned embedding of $D$ numbers:",
                {"D": D},
            ),
            position,
            Text(
                "Each of the $L = {depth}$ encoder blocks has two LayerNorms, self-attention and an MLP ({D} → {mlp} → {D}), all with biases:",
                {"depth": depth, "D": D, "mlp": params["mlp_hidden"]},
            ),
            layernorm,
            attention,
            mlp,
            block,
            Text("A final LayerNorm and a linear head to {classes} classes close the network:", {"classes": classes}),
            head,
            total,
            Table(
                ("part", "parameters"),
                (
                    ("patch embedding", patch_embedding.value),
                    ("class token", D),
                    ("position embeddings", position.value),
                    (f"{depth} encoder blocks", depth * block.value),
                    ("final LayerNorm", layernorm.value),
                    ("head", head.value),
                    ("ViT-B/16", total.value),
                    ("ResNet-50 (Exercise 19)", resnet),
                ),
            ),
            Text(
                "ViT-B/16 has {ratio} times the parameters of ResNet-50. With {images} labelled images that is about "
                "{vit_per_image} parameters per image against {resnet_per_image}.",
                {
                    "ratio": Rounded(Fraction(total.value, resnet), 2),
                    "images": images,
                    "vit_per_image": Rounded(Fraction(total.value, images), 0),
                    "resnet_per_image": Rounded(Fraction(resnet, images), 0),
                },
            ),
            Text(
                "Trained from scratch on so few images, ResNet-50 wins clearly. A convolution builds in two "
                "assumptions that hold for images: what matters is local (small kernels), and the same pattern means "
                "the same thing anywhere (shared weights, translation equivariance). A transformer assumes neither: "
                "every token attends to every other from the first layer, and apart from cutting patches it must "
                "learn locality and translation behaviour from data. Those priors are worth a great deal of data; "
                "ViT only catches up with, and then passes, ResNets when pretrained on tens to hundreds of millions "
                "of images, where the fixed priors start to limit the CNN more than they help it."
            ),
            Text(
                "Pretraining changes the picture: then both backbones arrive with general features, and a ViT pretrained "
                "on a large corpus and fine-tuned with strong augmentation and regularisation can match or beat the "
                "CNN. On this budget the pretrained ResNet-50 is still the safer default: it has fewer parameters to "
                "adapt per labelled image, costs less to fine-tune and is less sensitive to the recipe."
            ),
        ),
        answers={"vit_params": total.value, "resnet50_params": resnet},
        conclusion=Text(
            "ViT-B/16: {vit} parameters; ResNet-50: {resnet}. On {images} labelled images the CNN's inductive bias wins "
            "unless the transformer comes pretrained on far more data.",
            {"vit": total.value, "resnet": resnet, "images": images},
        ),
    )


EXERCISE = Exercise(
    number=34,
    title="Vision transformer against a CNN",
    question=(
        "Count the parameters of ViT-B/16 ({image_size}×{image_size} input, {patch_size}×{patch_size} patches, "
        "$D = {hidden}$, {layers} encoder blocks with MLP width {mlp_hidden}, {classes} classes) and compare with "
        "ResNet-50. Which would you expect to do better with {labelled_images} labelled images, and why?"
    ),
    defaults={
        "image_size": 224,
        "patch_size": 16,
        "hidden": 768,
        "layers": 12,
        "mlp_hidden": 3072,
        "classes": 1000,
        "labelled_images": 5000,
    },
    solve=solve,
    topics=("parameters", "vision transformer", "inductive bias"),
    prose_only=("the answer is a judgement about inductive bias and data; its counts are those of two fixed, published models"),
)
