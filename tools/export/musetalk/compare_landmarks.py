#!/usr/bin/env python3
"""How well face-api's 68 landmarks (what our engine uses) stand in for MuseTalk's DWPose + S3FD, on
your own photos. Needs a MuseTalk checkout with its weights (models/dwpose, models/face_detection) and
its Python dependencies (mmpose, mmcv), i.e. a machine that can run the official inference.

    npx tsx tools/export/musetalk/face-landmarks.ts a.jpg b.jpg > faces.json
    python tools/export/musetalk/compare_landmarks.py --musetalk-repo ../MuseTalk --faces faces.json a.jpg b.jpg

For each photo it prints the official and our face box (the landmark-29 rule, before the +10 px
margin), their intersection over union, the largest edge difference in pixels, and the mean landmark
distance as a fraction of the distance between the eye corners (36 and 45). Run it from the MuseTalk
checkout's directory, where its loaders find ./models.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def box_from_landmarks(points: np.ndarray) -> tuple[int, int, int, int]:
    """MuseTalk's rule (preprocessing.get_landmark_and_bbox, bbox_shift 0), on integer landmarks."""
    points = points.astype(np.int32)
    half = points[29][1]
    distance = np.max(points[:, 1]) - half
    return int(np.min(points[:, 0])), int(max(0, half - distance)), int(np.max(points[:, 0])), int(np.max(points[:, 1]))


def intersection_over_union(first, second) -> float:
    x1, y1 = max(first[0], second[0]), max(first[1], second[1])
    x2, y2 = min(first[2], second[2]), min(first[3], second[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    area = lambda box: max(0, box[2] - box[0]) * max(0, box[3] - box[1])  # noqa: E731
    union = area(first) + area(second) - inter
    return inter / union if union else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--musetalk-repo", required=True, type=Path)
    parser.add_argument("--faces", required=True, type=Path, help="face-landmarks.ts output for the same photos")
    parser.add_argument("photos", nargs="+", type=Path)
    arguments = parser.parse_args()
    sys.path.insert(0, str(arguments.musetalk_repo.resolve()))
    from musetalk.utils.preprocessing import fa, inference_topdown, merge_data_samples, model, read_imgs

    ours_by_name = json.loads(arguments.faces.read_text(encoding="utf-8"))
    rows = []
    for photo in arguments.photos:
        frame = read_imgs([str(photo)])[0]
        result = merge_data_samples(inference_topdown(model, frame))
        official_points = np.asarray(result.pred_instances.keypoints[0][23:91], dtype=np.float64)
        detection = fa.get_detections_for_batch(np.asarray([frame]))[0]
        entry = ours_by_name.get(photo.name)
        if entry is None:
            print(f"{photo.name}: not in {arguments.faces}; run face-landmarks.ts on it")
            continue
        ours_points = np.asarray(entry["landmarks"], dtype=np.float64)
        official_box, our_box = box_from_landmarks(official_points), box_from_landmarks(ours_points)
        eyes = np.linalg.norm(official_points[36] - official_points[45]) or 1.0
        mean_distance = float(np.mean(np.linalg.norm(official_points - ours_points, axis=1)) / eyes)
        edge = max(abs(a - b) for a, b in zip(official_box, our_box))
        rows.append((mean_distance, intersection_over_union(official_box, our_box), edge))
        print(
            f"{photo.name}: official box {official_box} (S3FD {detection}), ours {our_box}; "
            f"IoU {rows[-1][1]:.3f}, largest edge difference {edge} px, mean landmark distance {mean_distance:.3f} × eye distance"
        )
    if rows:
        distances, overlaps, edges = zip(*rows)
        print(
            f"\n{len(rows)} photos: mean IoU {np.mean(overlaps):.3f} (worst {min(overlaps):.3f}), "
            f"mean landmark distance {np.mean(distances):.3f} × eye distance, largest edge difference {max(edges)} px"
        )


if __name__ == "__main__":
    main()
