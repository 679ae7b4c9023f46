"""Reference values for the detection ops (test/fixtures/roi.json), from torchvision.

Run once with Debian's PyTorch 1.13 + torchvision 0.14:
    /usr/bin/python3 scripts/gen_fixtures_roi.py
Inputs are rounded to 4 decimals before becoming float32, so JS parses the same float32
values from the JSON; outputs keep 7 significant digits.
"""
import json
import math
import os

import torch
import torchvision.ops as ops
import torch.nn.functional as F
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

torch.manual_seed(0)
torch.set_num_threads(1)

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'roi.json')


def rnd(shape, lo=-1.0, hi=1.0):
    t = torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo
    return torch.round(t * 10000) / 10000


def flat(t, digits=7):
    vals = t.detach().reshape(-1).tolist()
    if t.dtype in (torch.int64, torch.int32, torch.bool):
        return [int(v) for v in vals]
    return [float(f'{v:.{digits}g}') for v in vals]


def enc(t):
    return {'shape': list(t.shape), 'data': flat(t)}


# Boxes for a feature map of 9 x 11 (H x W), written in feature cells and returned in image
# coordinates (divided by the scale): inside, fractional, the whole map, partly outside, fully
# outside, inverted, a point, wider than the map, and boxes on the second image.
def roi_cases(scale):
    w, h = 11.0, 9.0
    cells = torch.tensor([
        [0, 1.2, 2.3, 7.7, 6.1],
        [1, 0.0, 0.0, w, h],
        [0, -3.0, -2.0, 5.0, 4.0],
        [1, 2.5, 1.5, 3.25, 2.75],
        [0, 30.0, 30.0, 40.0, 45.0],
        [1, 8.0, 8.0, 2.0, 3.0],
        [0, 4.0, 4.0, 4.0, 4.0],
        [1, -5.0, 3.0, w + 4, h + 2],
        [0, 0.4, 0.6, 10.4, 8.6],
        [0, 9.7, 7.6, 10.9, 8.9],
    ], dtype=torch.float64)
    cells[:, 1:] /= scale
    return cells


fixtures = {}

# ---- roi_pool / roi_align -------------------------------------------------------------------
x64 = rnd((2, 3, 9, 11))
x = x64.float()
roi_pool_cases = []
for scale, out_size in [(1.0, (3, 3)), (0.5, (2, 4)), (0.25, (4, 3))]:
    boxes = roi_cases(scale).float()
    xi = x.clone().requires_grad_(True)
    y = ops.roi_pool(xi, boxes, out_size, scale)
    g = rnd(y.shape).float()
    (y * g).sum().backward()
    roi_pool_cases.append({
        'spatialScale': scale, 'outputSize': list(out_size), 'boxes': enc(boxes),
        'out': enc(y), 'gradOut': enc(g), 'gradX': enc(xi.grad),
    })
fixtures['x'] = enc(x)
fixtures['roiPool'] = roi_pool_cases

roi_align_cases = []
for aligned in [False, True]:
    for sampling in [0, 2, -1, 1]:
        for scale, out_size in [(1.0, (3, 3)), (0.5, (2, 4))]:
            boxes = roi_cases(scale).float()
            xi = x.clone().requires_grad_(True)
            y = ops.roi_align(xi, boxes, out_size, scale, sampling, aligned)
            g = rnd(y.shape).float()
            (y * g).sum().backward()
            roi_align_cases.append({
                'aligned': aligned, 'samplingRatio': sampling, 'spatialScale': scale, 'outputSize': list(out_size),
                'boxes': enc(boxes), 'out': enc(y), 'gradOut': enc(g), 'gradX': enc(xi.grad),
            })
fixtures['roiAlign'] = roi_align_cases

# 16 channels and boxes big enough for the channels-last (SIMD) path.
xw = rnd((2, 16, 8, 7)).float()
wide_boxes = torch.cat([torch.tensor([[0], [1], [1], [0], [1], [0]], dtype=torch.float64),
                        torch.tensor([[0.5, 0.5, 6.5, 7.5], [-2, 1, 5, 7], [3.3, 2.2, 6.9, 8.5],
                                      [1, 1, 2, 2], [6, 7, 3, 2], [-1, -1, 8, 9]], dtype=torch.float64)], 1).float()
wide = []
for aligned, sampling in [(True, 0), (False, 2)]:
    xi = xw.clone().requires_grad_(True)
    y = ops.roi_align(xi, wide_boxes, (3, 3), 1.0, sampling, aligned)
    g = rnd(y.shape).float()
    (y * g).sum().backward()
    wide.append({'aligned': aligned, 'samplingRatio': sampling, 'out': enc(y), 'gradOut': enc(g), 'gradX': enc(xi.grad)})
fixtures['roiAlignWide'] = {'x': enc(xw), 'boxes': enc(wide_boxes), 'cases': wide}

# The list-of-boxes form: per-image (Ki, 4) tensors.
list_boxes = [rnd((3, 4), 0, 8).float(), rnd((2, 4), 0, 8).float()]
list_boxes = [torch.cat([b[:, :2], b[:, :2] + b[:, 2:].abs() + 1], 1) for b in list_boxes]
fixtures['roiAlignList'] = {
    'boxes': [enc(b) for b in list_boxes],
    'out': enc(ops.roi_align(x, list_boxes, 2, 1.0, 2, True)),
    'outPool': enc(ops.roi_pool(x, list_boxes, 2, 1.0)),
}

# ---- box_iou / nms / batched_nms -----------------------------------------------------------
def rand_boxes(n, size=20.0, lo=1.0, hi=8.0):
    xy = torch.round(torch.rand(n, 2, dtype=torch.float64) * size * 4) / 4
    wh = torch.round((torch.rand(n, 2, dtype=torch.float64) * (hi - lo) + lo) * 4) / 4
    return torch.cat([xy, xy + wh], 1).float()


a = rand_boxes(7)
b = torch.cat([rand_boxes(5), torch.tensor([[3, 3, 3, 3], [5, 5, 2, 2], [0, 0, 4, 4]], dtype=torch.float32)])
a[0] = torch.tensor([0, 0, 4, 4])
fixtures['boxIou'] = {'a': enc(a), 'b': enc(b), 'out': enc(ops.box_iou(a, b))}

nms_cases = []
for n, thr, tie in [(30, 0.5, False), (30, 0.3, True), (60, 0.7, True), (12, 0.0, False), (40, 1.0, False)]:
    boxes = rand_boxes(n, size=12.0)
    if tie:
        scores = torch.randint(0, 4, (n,)).float() / 4
    else:
        scores = torch.round(torch.rand(n, dtype=torch.float64) * 10000).float() / 10000
    nms_cases.append({'boxes': enc(boxes), 'scores': enc(scores), 'iouThreshold': thr, 'keep': flat(ops.nms(boxes, scores, thr)),
                      'keep64': flat(ops.nms(boxes.double(), scores.double(), thr))})
# Exact IoU on the threshold: [0,0,2,1] and [1,0,3,1] overlap with IoU exactly 1/3; [0,0,4,4]
# and [0,0,4,2] with IoU 0.5.
boxes = torch.tensor([[0, 0, 2, 1], [1, 0, 3, 1], [0, 0, 4, 4], [0, 0, 4, 2], [10, 10, 10, 10], [10, 10, 10, 10]],
                     dtype=torch.float32)
scores = torch.tensor([0.9, 0.8, 0.7, 0.7, 0.5, 0.5])
# In float32 the 1/3 IoU rounds up to 0.33333334 > 1/3 (compared in double) and suppresses;
# in float64 it equals the threshold and does not.
for thr in [0.5, 1 / 3, 0.3]:
    nms_cases.append({'boxes': enc(boxes), 'scores': enc(scores), 'iouThreshold': thr, 'keep': flat(ops.nms(boxes, scores, thr)),
                      'keep64': flat(ops.nms(boxes.double(), scores.double(), thr))})
fixtures['nms'] = nms_cases

bn = []
for n, thr, ncls in [(40, 0.5, 3), (25, 0.2, 1), (50, 0.6, 5)]:
    boxes = rand_boxes(n, size=10.0)
    scores = torch.round(torch.rand(n, dtype=torch.float64) * 10000).float() / 10000
    classes = torch.randint(0, ncls, (n,)) * 7 - 3
    bn.append({'boxes': enc(boxes), 'scores': enc(scores), 'classes': flat(classes), 'iouThreshold': thr,
               'keep': flat(ops.batched_nms(boxes, scores, classes, thr))})
fixtures['batchedNms'] = bn

# ---- anchors, box coding, clipping ----------------------------------------------------------
gen = AnchorGenerator(sizes=((32, 64, 128), (64, 128, 256)), aspect_ratios=((0.5, 1.0, 2.0), (0.5, 1.0, 2.0)))
images = ImageList(torch.zeros(1, 3, 64, 96), [(64, 96)])
feats = [torch.zeros(1, 8, 8, 12), torch.zeros(1, 8, 4, 5)]
anchors = gen(images, feats)[0]
fixtures['anchors'] = {
    'sizes': [[32, 64, 128], [64, 128, 256]], 'aspectRatios': [[0.5, 1.0, 2.0], [0.5, 1.0, 2.0]],
    'imageSize': [64, 96], 'featureSizes': [[8, 12], [4, 5]],
    'cellAnchors': [enc(c) for c in gen.cell_anchors], 'out': enc(anchors),
}

coder = det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0), bbox_xform_clip=math.log(1000.0 / 16))
proposals = rand_boxes(6, size=30.0, lo=2.0, hi=15.0)
gt = rand_boxes(6, size=30.0, lo=2.0, hi=15.0)
targets = coder.encode_single(gt, proposals)
codes = rnd((6, 8), -1, 1).float()
codes[0, 2] = 9.0   # clamped dw
codes[1, 7] = 20.0  # clamped dh (second class)
decoded = coder.decode_single(codes, proposals)
coder1 = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
fixtures['boxCoder'] = {
    'weights': [10.0, 10.0, 5.0, 5.0], 'proposals': enc(proposals), 'gt': enc(gt), 'encoded': enc(targets),
    'codes': enc(codes), 'decoded': enc(decoded),
    'encodedUnit': enc(coder1.encode_single(gt, proposals)), 'decodedUnit': enc(coder1.decode_single(codes[:, :4], proposals)),
}
boxes = torch.tensor([[-5, 3, 20, 70], [10, -2, 200, 30], [50, 60, 40, 10]], dtype=torch.float32)
fixtures['clip'] = {'boxes': enc(boxes), 'size': [64, 96], 'out': enc(ops.clip_boxes_to_image(boxes, (64, 96)))}

# ---- smooth L1 --------------------------------------------------------------------------------
inp = rnd((4, 5), -2, 2).float()
tgt = rnd((4, 5), -2, 2).float()
inp[0, 0] = tgt[0, 0]  # zero difference (torch 1.13 gives it gradient -1 when beta == 0; dendrite 0)
sl = []
for beta in [1.0, 1 / 9, 0.0, 0.5]:
    for reduction in ['mean', 'sum', 'none']:
        xi = inp.clone().requires_grad_(True)
        y = F.smooth_l1_loss(xi, tgt, reduction=reduction, beta=beta)
        g = rnd(y.shape).float() if reduction == 'none' else torch.tensor(1.0)
        (y * g).sum().backward()
        sl.append({'beta': beta, 'reduction': reduction, 'out': enc(y), 'gradOut': enc(g), 'gradInput': enc(xi.grad)})
fixtures['smoothL1'] = {'input': enc(inp), 'target': enc(tgt), 'cases': sl}

with open(OUT, 'w') as f:
    json.dump(fixtures, f, separators=(',', ':'))
print(f'wrote {OUT}: {os.path.getsize(OUT)} bytes')
