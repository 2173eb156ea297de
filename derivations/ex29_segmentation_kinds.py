"""Exercise 29: what semantic, instance and panoptic segmentation output for one street scene."""

from math import prod

from symconv import Exercise, Table, Text, Worked, derive
from symconv.core.errors import invalid

# The scene's vocabulary: "stuff" is amorphous and uncountable, "things" are countable objects.
CLASSES = (("road", "stuff"), ("sky", "stuff"), ("car", "thing"), ("person", "thing"))
STUFF = tuple(name for name, kind in CLASSES if kind == "stuff")
THINGS = tuple(name for name, kind in CLASSES if kind == "thing")
# Panoptic pixels carry (class, instance id); stuff has no instances, written as id 0.
NO_INSTANCE = 0


def instance_count(N_cars, N_people):
    return N_cars + N_people


def panoptic_segments(N_stuff, N):
    return N_stuff + N


def shape_text(shape):
    return "×".join(str(size) for size in shape)


def _check(params):
    for name, least in (("height", 1), ("width", 1), ("cars", 0), ("people", 0)):
        value = params[name]
        if not (isinstance(value, int) and value >= least):
            raise invalid(name, value, f"must be an integer of at least {least}")


def solve(params):
    _check(params)
    height, width, cars, people = (params[name] for name in ("height", "width", "cars", "people"))
    classes = len(CLASSES)
    instances = derive(instance_count, cars, people, lhs="N", unit="instances")
    segments = derive(panoptic_segments, len(STUFF), instances.value, lhs="segments", unit="")
    n = instances.value
    outputs = (
        ("semantic", "class scores", (classes, height, width)),
        ("semantic", "class map (argmax of the scores)", (height, width)),
        ("instance", "binary masks", (n, height, width)),
        ("instance", "class labels", (n,)),
        ("instance", "confidence scores", (n,)),
        ("panoptic", "(class, instance id) per pixel", (height, width, 2)),
    )
    counts = {"car": cars, "person": people}
    pairs = [(name, NO_INSTANCE) for name in STUFF] + [(name, i) for name in THINGS for i in range(1, counts[name] + 1)]
    return Worked(
        blocks=(
            Text(
                "The scene has {classes} classes. Road and sky are stuff: regions without a count. Cars and "
                "people are things: objects one can count, here $N_{\\text{cars}} = {car_count}$ cars and "
                "$N_{\\text{people}} = {person_count}$ people. The three "
                "tasks differ in what a pixel is told.",
                {"classes": classes, "car_count": cars, "person_count": people},
            ),
            Text(
                "Semantic segmentation gives every pixel one class. The network scores each class at each "
                "pixel, a $C \\times H \\times W$ tensor ($C$ classes on an $H \\times W$ image), and the argmax over $C$ leaves an $H \\times W$ map of "
                "class indices. Every car carries the same label, so touching cars merge into one region: "
                "the map cannot say how many cars there are."
            ),
            Text(
                "Instance segmentation finds the countable objects, one binary $H \\times W$ mask each, with a "
                "class label and a confidence score. Road and sky are not reported, masks may overlap, and "
                "pixels covered by no mask stay unexplained. With one detection per object, the number of "
                "instances $N$ is"
            ),
            instances,
            Text(
                "Panoptic segmentation (Kirillov et al. 2019) unites the two: every pixel gets a class and, if that class is a thing, "
                "an instance id, counted from 1 within the class; stuff pixels get id {none}. Segments do not overlap and cover the image. "
                "Counting each of the $N_{\\text{stuff}} = {stuff_count}$ stuff classes as one segment, and each of the $N$ "
                "instances found above as one, the segments are",
                {"none": NO_INSTANCE, "stuff_count": len(STUFF)},
            ),
            segments,
            Table(("class", "instance id"), tuple(pairs), caption="The panoptic segments of the scene"),
            Table(
                ("task", "tensor", "shape", "entries"),
                tuple((task, tensor, shape_text(shape), prod(shape)) for task, tensor, shape in outputs),
                caption=f"Outputs for a {height}×{width} image",
            ),
        ),
        answers={
            "classes": classes,
            "instances": n,
            "panoptic_segments": segments.value,
            "semantic_scores_shape": [classes, height, width],
            "semantic_map_shape": [height, width],
            "instance_masks_shape": [n, height, width],
            "instance_labels_shape": [n],
            "instance_scores_shape": [n],
            "panoptic_shape": [height, width, 2],
        },
        conclusion=Text(
            "Semantic: a class map of shape {h}×{w} (the argmax of {c}×{h}×{w} scores). Instance: masks of shape "
            "{n}×{h}×{w} with {n} labels and {n} scores. Panoptic: a map of shape {h}×{w} holding (class, id) "
            "pairs, {segments} segments in all.",
            {"h": height, "w": width, "c": classes, "n": n, "segments": segments.value},
        ),
    )


EXERCISE = Exercise(
    number=29,
    title="Semantic, instance and panoptic segmentation",
    question=(
        "A {height}×{width} street photo shows road, sky, {cars} cars and {people} people. For each of "
        "semantic, instance and panoptic segmentation, say what every pixel is assigned and give the shapes "
        "of the tensors the model outputs."
    ),
    defaults={"height": 512, "width": 1024, "cars": 2, "people": 3},
    solve=solve,
    topics=("segmentation",),
    prose_only=(
        "the answer explains what each task assigns to a pixel; its tensor shapes restate the image size and "
        "the counts the question gives"
    ),
)
