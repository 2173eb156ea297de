"""Exercise 34: ViT-B/16 against ResNet-50, parameter by parameter, and which to pick for a small data set."""

from fractions import Fraction

from symconv import (
    Exercise,
    Rounded,
    Table,
    Text,
    Worked,
    conv_params,
    derive,
    formula,
    linear_params,
)

from ._architectures import resnet50_counts, total_of
from ._shared import GROUPS_NOTE

# ViT-S/16 (DeiT-S, Touvron et al. 2021): the transformer of about ResNet-50's size.
VIT_SMALL = {"hidden": 384, "layers": 12, "mlp_hidden": 1536}
IMAGENET_1K_IMAGES = 1_281_167  # training images of ILSVRC-2012


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


def patch_grid(N, S):
    """Patches of side S tile an N × N image without overlap: N/S of them along each side."""
    return N // S


def tokens(n_patches):
    """One token per patch of the grid, plus the class token."""
    return n_patches**2 + 1


def position_params(T, D):
    return T * D


def vit_params(P_patch, P_cls, P_pos, L, P_block, P_ln, P_head):
    return P_patch + P_cls + P_pos + L * P_block + P_ln + P_head


def vit_count(size, patch, D, depth, mlp, classes):
    """The same count without working, for a second configuration."""
    blocks = depth * encoder_block_params(layernorm_params(D), attention_params(D), mlp_params(D, mlp))
    return vit_params(
        conv_params(3, D, patch), D, position_params(tokens(size // patch), D), 1, blocks, layernorm_params(D),
        linear_params(D, classes),
    )  # fmt: skip


def solve(params):
    size, patch, D, depth = params["image_size"], params["patch_size"], params["hidden"], params["layers"]
    classes, images = params["classes"], params["labelled_images"]
    patch_embedding = derive(conv_params, 3, D, patch, lhs="P_patch")
    grid = derive(patch_grid, size, patch, lhs="n_patches", unit="patches")
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
    small = vit_count(size, patch, VIT_SMALL["hidden"], VIT_SMALL["layers"], VIT_SMALL["mlp_hidden"], classes)
    name = f"ViT-B/{patch}" if (D, depth, params["mlp_hidden"]) == (768, 12, 3072) else f"the ViT (D = {D})"
    return Worked(
        blocks=(
            Text(
                "The image is cut into {patch}×{patch} patches, each flattened and projected to $D = {D}$ features: "
                "exactly a $K \\times K$ convolution, $K = {patch}$, with stride {patch} and bias, from "
                "$C_{\\text{in}}$ = 3 channels to $C_{\\text{out}} = D$. " + GROUPS_NOTE,
                {"patch": patch, "D": D},
            ),
            patch_embedding,
            Text(
                "Patches of side $S = {patch}$ tile the $N \\times N$ image, $N = {size}$, in a grid of side",
                {"patch": patch, "size": size},
            ),
            grid,
            sequence,
            Text(
                "A learned class token ($P_{\\text{cls}} = D = {D}$ parameters) is prepended; its output feeds the classifier. Every token "
                "position gets a learned embedding of $D$ numbers:",
                {"D": D},
            ),
            position,
            Text(
                "Each of the $L = {depth}$ encoder blocks has two LayerNorms, self-attention and an MLP of width $D_{\\text{mlp}} = {width}$ ({D} → {width} → {D}), all with biases; "
                "attention projects to queries, keys and values ($D \\to 3D$) and back ($D \\to D$), however many heads share them:",
                {"depth": depth, "D": D, "width": params["mlp_hidden"]},
            ),
            layernorm,
            attention,
            mlp,
            block,
            Text(
                "A final LayerNorm and a linear head from $F_{\\text{in}} = D$ features to $F_{\\text{out}} = {classes}$ "
                "classes close the network:",
                {"classes": classes},
            ),
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
                    (name, total.value),
                ),
            ),
            Text(
                "{name} has {ratio} times the parameters of ResNet-50 ({resnet}, Exercise 19), so it is not the fair "
                "opponent. Like with like is ViT-S/{patch} (the architecture of DeiT-S): the same formulas with "
                "$D = {small_D}$, an MLP of width {small_mlp} and {small_L} blocks give {small} parameters, "
                "{small_ratio} times ResNet-50's. With {images} labelled images, that is about {small_per_image} "
                "parameters per image for ViT-S and {resnet_per_image} for ResNet-50.",
                {
                    "name": name,
                    "patch": patch,
                    "ratio": Rounded(Fraction(total.value, resnet), 2),
                    "resnet": resnet,
                    "small_D": VIT_SMALL["hidden"],
                    "small_mlp": VIT_SMALL["mlp_hidden"],
                    "small_L": VIT_SMALL["layers"],
                    "small": small,
                    "small_ratio": Rounded(Fraction(small, resnet), 2),
                    "images": images,
                    "small_per_image": Rounded(Fraction(small, images), 0),
                    "resnet_per_image": Rounded(Fraction(resnet, images), 0),
                },
            ),
            Text(
                "From scratch, the CNN wins. A convolution builds in two assumptions that hold for images: what "
                "matters is local (small kernels), and the same pattern means the same thing anywhere (shared "
                "weights, translation equivariance). A transformer assumes neither: every token attends to every "
                "other from the first layer, and apart from cutting patches it must learn locality and translation "
                "behaviour from data. Those priors are worth a great deal of data. Dosovitskiy et al. (2021) found "
                "ViTs trained on ImageNet-1k alone (1.3 million images) behind ResNets of similar size, level with "
                "them after pretraining on ImageNet-21k (14 million) and ahead after 300 million; Touvron et al. "
                "(2021) then matched ResNet-50 with DeiT-S on ImageNet-1k alone, but only with heavy augmentation "
                "and regularisation and a long schedule (distillation from a CNN teacher added more). {images} images are about {fewer} times fewer than ImageNet-1k: "
                "trained from scratch on them, a ResNet-50 (or a smaller CNN) is the clear choice.",
                {"images": images, "fewer": Rounded(Fraction(IMAGENET_1K_IMAGES, images), 0)},
            ),
            Text(
                "With pretraining, the pretraining decides, not the family. Nobody needs to train either network "
                "from scratch on {images} images: both come pretrained, and the question becomes which weights "
                "carry the most transferable features. An ImageNet-1k ResNet-50 and an ImageNet-1k DeiT-S are close, "
                "and the CNN is the cheaper and less recipe-sensitive one to fine-tune. But ViTs pretrained on far "
                "larger or richer data, on ImageNet-21k, with CLIP's 400 million image-text pairs (Radford et al. "
                "2021) or self-supervised like DINOv2 (Oquab et al. 2023), often beat an ImageNet ResNet-50 on small "
                "downstream sets, even as fixed features under a linear probe. The recommendation: fine-tune (or "
                "linearly probe, then fine-tune gently) the best-pretrained backbone available, which today is "
                "usually such a ViT; if only ImageNet-1k weights are at hand, the ResNet-50 is the safer default; "
                "and never a ViT from scratch on this budget.",
                {"images": images},
            ),
        ),
        answers={"vit_params": total.value, "vit_small_params": small, "resnet50_params": resnet},
        conclusion=Text(
            "{name}: {vit} parameters; ViT-S/{patch}: {small}; ResNet-50: {resnet}. Trained from scratch on {images} "
            "labelled images the CNN's inductive bias wins; with pretraining the weights decide, and a ViT pretrained "
            "on large data (ImageNet-21k, CLIP, DINOv2) is often the better start, an ImageNet-1k ResNet-50 the "
            "safer one when nothing more is available.",
            {"name": name, "vit": total.value, "patch": patch, "small": small, "resnet": resnet, "images": images},
        ),
    )


EXERCISE = Exercise(
    number=34,
    title="Vision transformer against a CNN",
    question=(
        "Count the parameters of ViT-B/16 ({image_size}×{image_size} input, {patch_size}×{patch_size} patches, "
        "$D = {hidden}$, {layers} encoder blocks with MLP width {mlp_hidden}, {classes} classes) and compare with "
        "ResNet-50, and with a ViT of ResNet-50's size. Discuss the trade-offs for a problem with {labelled_images} "
        "labelled images: which is likely to win, and why?"
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
