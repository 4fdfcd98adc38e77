"""Class names of the known data sets, and a default display palette."""

from __future__ import annotations

# Cityscapes labelIds 0..33 (cityscapesScripts labels.py); 34 is unused but counted by
# the official label_nc 35.
CITYSCAPES = (
    "unlabeled", "ego vehicle", "rectification border", "out of roi", "static", "dynamic",
    "ground", "road", "sidewalk", "parking", "rail track", "building", "wall", "fence",
    "guard rail", "bridge", "tunnel", "pole", "polegroup", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "caravan",
    "trailer", "train", "motorcycle", "bicycle", "unused-34",
)

# ADE20K SceneParsing objectInfo150 (first name of each entry), ids 0..149 after the
# official shift (file label k -> k-1).
_ADE20K_WORDS = """wall building sky floor tree ceiling road bed windowpane
grass cabinet sidewalk person earth door table mountain plant curtain chair car water painting
sofa shelf house sea mirror rug field armchair seat fence desk rock wardrobe lamp bathtub
railing cushion base box column signboard chest_of_drawers counter sand sink skyscraper
fireplace refrigerator grandstand path stairs runway case pool_table pillow screen_door
stairway river bridge bookcase blind coffee_table toilet flower book hill bench countertop
stove palm kitchen_island computer swivel_chair boat bar arcade_machine hovel bus towel light
truck tower chandelier awning streetlight booth television_receiver airplane dirt_track
apparel pole land bannister escalator ottoman bottle buffet poster stage van ship fountain
conveyer_belt canopy washer plaything swimming_pool stool barrel basket waterfall tent bag
minibike cradle oven ball food step tank trade_name microwave pot animal bicycle lake
dishwasher screen blanket sculpture hood sconce vase traffic_light tray ashcan fan pier
crt_screen plate monitor bulletin_board shower radiator glass clock flag"""
ADE20K = tuple(n.replace("_", " ") for n in _ADE20K_WORDS.split())

# pix2pix facades: palette entry i (bench.data.facades.PALETTE) is CMP class i, in the CMP
# documentation's order (../shared/datasets/facades/README.md checked them against the
# photos: red vertical bands are pillars, yellow-green blocks balconies, dark red at
# street level shop fronts, cyan at the bottom doors).
FACADES = ("background", "facade", "window", "door", "cornice", "sill", "balcony", "blind",
           "deco", "molding", "pillar", "shop")
# CMP base label PNGs: ids 1..12 in the CMP documentation's order (shifted to 0..11).
CMP = ("background", "facade", "window", "door", "cornice", "sill", "balcony", "blind",
       "deco", "molding", "pillar", "shop")

CLASS_NAMES = {"cityscapes": CITYSCAPES, "ade20k": ADE20K, "facades": FACADES, "cmp": CMP}


def default_palette(n: int) -> tuple[tuple[int, int, int], ...]:
    """n distinct display colours: the bits of the class id spread over R, G, B
    (the usual segmentation colour map), so that neighbouring ids look different."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i + 1  # id 0 is not black, black is kept for don't-care
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        out.append((r, g, b))
    return tuple(out)
