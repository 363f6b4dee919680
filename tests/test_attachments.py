"""tui.core.attachments: what may be attached, and how it is sent."""

from __future__ import annotations

import pytest

from tui.core.attachments import (
    AttachmentError,
    ImageFile,
    TextFile,
    fenced,
    fuzzy_rank,
    list_files,
    read_attachment,
    set_apart,
    with_image_parts,
)


def test_text_image_and_refusals(tmp_path):
    (tmp_path / "a.md").write_text("# hi\r\n")
    assert read_attachment(tmp_path / "a.md") == TextFile("a.md", "# hi\n")
    (tmp_path / "p.png").write_bytes(b"\x89PNG\r\n\x1a\nrest")
    image = read_attachment(tmp_path / "p.png")
    assert isinstance(image, ImageFile) and image.data_url.startswith("data:image/png;base64,")
    (tmp_path / "fake.png").write_text("not a png")
    with pytest.raises(AttachmentError, match="fake.png is not a png image"):
        read_attachment(tmp_path / "fake.png")
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(AttachmentError, match="not UTF-8 text"):
        read_attachment(tmp_path / "latin.txt")
    with pytest.raises(AttachmentError, match="is a folder"):
        read_attachment(tmp_path)


def test_the_fence_outgrows_the_files_backticks():
    block = fenced(TextFile("x.md", "````\ncode\n````"))
    assert block == "x.md:\n\n`````markdown\n````\ncode\n````\n`````"


def test_files_are_listed_without_hidden_or_build_folders(tmp_path):
    for path in ("src/app.py", "src/.secret", ".git/HEAD", "node_modules/x.js", "README"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert list_files(tmp_path) == ["README", "src/app.py"]


def test_fuzzy_ranking_prefers_the_file_name():
    paths = ["docs/main_page.md", "src/main.py", "mainly/other.py", "tests/test_x.py"]
    assert fuzzy_rank("main.py", paths)[0] == "src/main.py"
    assert fuzzy_rank("tx", paths) == ["tests/test_x.py"]


def test_image_parts_go_on_the_messages_that_have_images():
    image = ImageFile("a.png", "image/png", b"\x89PNG")
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "one"},
                {"role": "user", "content": "two"}]
    parts = with_image_parts(messages, ["m1", "m2"], {"m2": [image]})
    assert parts[:2] == messages[:2]
    assert parts[2]["content"] == [{"type": "text", "text": "two"},
                                   {"type": "image_url", "image_url": {"url": image.data_url}}]


@pytest.mark.parametrize("before, after, expected", [
    ("", "", "B"),
    ("", " and fix it", "B\n\nand fix it"),
    ("see ", "", "see\n\nB"),
    ("see ", " then fix it", "see\n\nB\n\nthen fix it"),
    ("see:\n", "\nthen", "see:\n\nB\n\nthen"),
    ("see:\n\n", "\n\nthen", "see:\n\nB\n\nthen"),
])
def test_a_files_block_is_set_apart_from_the_text_around_its_chip(before, after, expected):
    assert set_apart(before, "B", after) == expected
