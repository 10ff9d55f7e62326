"""How work is cut into engine tasks: by cost, so a worker is not left idle at the end
while another finishes a task of six camera photos."""

from __future__ import annotations

from igpreflight.scale.engine import task_budget, weighted_batches

MP = 1_000_000


def test_camera_photos_go_alone_and_thumbnails_share_tasks():
    costs = [12 * MP, 12 * MP, MP, MP, MP, 12 * MP, 0.1 * MP, 0.1 * MP]
    tasks = weighted_batches(costs, lambda c: False, lambda c: c, budget=8 * MP, cap=32)
    assert tasks == [[0], [1], [2, 3, 4], [5], [6, 7]]


def test_heavy_items_alone_cap_respected_and_every_item_once_in_order():
    items = ["v", *["t"] * 10, "v", *["t"] * 3]
    tasks = weighted_batches(items, lambda x: x == "v", lambda x: 1.0, budget=100, cap=4)
    assert sorted(i for task in tasks for i in task) == list(range(len(items)))
    assert [0] in tasks and [11] in tasks
    assert all(len(task) <= 4 for task in tasks)


def test_budget_leaves_every_slot_several_tasks_and_is_capped():
    assert task_budget(48 * 12 * MP, slots=2, most=8 * MP) == 8 * MP
    assert task_budget(16 * MP, slots=2, most=8 * MP) == 2 * MP  # 8 tasks for 2 slots
    assert task_budget(0, slots=4, most=8 * MP) == 1.0
