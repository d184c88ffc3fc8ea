"""connectors.providers.DropFolder: what a scan takes and skips, and moves that never overwrite."""

from __future__ import annotations

import hashlib
import os

import pytest

from connectors.providers import DropFile, DropFileChanged, DropFolder

XML = b"<?xml version='1.0' encoding='UTF-8'?><Invoice/>"


def put(folder, name: str, data: bytes = XML):
    path = folder / name
    path.write_bytes(data)
    return path


def test_scan_reads_xml_files_in_name_order(tmp_path):
    put(tmp_path, "b.xml", b"<b/>")
    put(tmp_path, "a.xml", b"<a/>")
    put(tmp_path, "C.XML", b"<c/>")
    drop = DropFolder(tmp_path)
    files = list(drop.scan())
    assert [f.name for f in files] == ["C.XML", "a.xml", "b.xml"]
    assert files[1].data == b"<a/>" and files[1].sha256 == hashlib.sha256(b"<a/>").hexdigest()
    assert files[1].path == tmp_path / "a.xml" and drop.skipped == []
    assert "<a/>" not in repr(files[1])  # the content stays out of logs


def test_scan_skips_and_reports_everything_else(tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.xml"
    outside.write_bytes(XML)
    folder = tmp_path / "drop"
    folder.mkdir()
    put(folder, "ok.xml")
    put(folder, ".hidden.xml")
    put(folder, "upload.xml.part")
    put(folder, "upload.xml.tmp")
    put(folder, "upload.tmp")
    put(folder, "a\\b.xml")  # a backslash: a path separator elsewhere
    put(folder, "a..b.xml")
    put(folder, "readme.txt")
    put(folder, "big.xml", b"x" * 2048)
    (folder / "link.xml").symlink_to(outside)
    (folder / "sub").mkdir()
    put(folder / "sub", "nested.xml")
    (folder / "processed").mkdir()
    (folder / "quarantine").mkdir()
    (folder / "responses").mkdir()
    drop = DropFolder(folder, max_bytes=1024)
    assert [f.name for f in drop.scan()] == ["ok.xml"]
    reasons = dict(drop.skipped)
    assert set(reasons) == {".hidden.xml", "upload.xml.part", "upload.xml.tmp", "upload.tmp", "a\\b.xml",
                            "a..b.xml", "readme.txt", "big.xml", "link.xml", "sub"}
    assert "leading dot" in reasons[".hidden.xml"]
    assert "partial" in reasons["upload.xml.part"] and "partial" in reasons["upload.tmp"]
    assert "unsafe name" in reasons["a\\b.xml"] and "unsafe name" in reasons["a..b.xml"]
    assert "symbolic link" in reasons["link.xml"] and "sub-directory" in reasons["sub"]
    assert "larger than 1024 bytes" in reasons["big.xml"] and "not an .xml" in reasons["readme.txt"]


def test_a_dot_dot_name_cannot_exist_on_disk(tmp_path):
    with pytest.raises(OSError):
        put(tmp_path, "..")  # '..' is the parent, never a file; a '../x' name is a path, not a name


def test_skipped_is_reset_per_scan(tmp_path):
    put(tmp_path, ".hidden.xml")
    drop = DropFolder(tmp_path)
    list(drop.scan())
    list(drop.scan())
    assert drop.skipped == [(".hidden.xml", "hidden or partial file (leading dot)")]


def test_mark_done_moves_and_never_overwrites(tmp_path):
    drop = DropFolder(tmp_path)
    put(tmp_path, "inv.xml", b"<first/>")
    (first,) = drop.scan()
    assert drop.mark_done(first, "processed") == tmp_path / "processed" / "inv.xml"
    put(tmp_path, "inv.xml", b"<second/>")
    (second,) = drop.scan()
    assert drop.mark_done(second, "processed") == tmp_path / "processed" / "inv.1.xml"
    put(tmp_path, "inv.xml", b"<third/>")
    (third,) = drop.scan()
    assert drop.mark_done(third, "quarantined") == tmp_path / "quarantine" / "inv.xml"
    assert (tmp_path / "processed" / "inv.xml").read_bytes() == b"<first/>"
    assert (tmp_path / "processed" / "inv.1.xml").read_bytes() == b"<second/>"
    assert (tmp_path / "quarantine" / "inv.xml").read_bytes() == b"<third/>"
    assert list(drop.scan()) == [] and drop.skipped == []
    assert sorted(os.listdir(tmp_path / "processed")) == ["inv.1.xml", "inv.xml"]  # no placeholders left


def test_mark_done_refuses_a_file_that_changed_after_it_was_read(tmp_path):
    drop = DropFolder(tmp_path)
    path = put(tmp_path, "inv.xml", b"<old/>")
    (file,) = drop.scan()
    path.write_bytes(b"<new content/>")
    with pytest.raises(DropFileChanged, match="changed after it was read"):
        drop.mark_done(file, "processed")
    assert path.read_bytes() == b"<new content/>" and not (tmp_path / "processed" / "inv.xml").exists()
    (again,) = drop.scan()
    assert again.data == b"<new content/>"


def test_mark_done_checks_its_arguments(tmp_path):
    drop = DropFolder(tmp_path)
    put(tmp_path, "inv.xml")
    (file,) = drop.scan()
    with pytest.raises(ValueError, match="outcome"):
        drop.mark_done(file, "deleted")
    stranger = DropFile(name="inv.xml", path=tmp_path / "elsewhere" / "inv.xml", data=XML, sha256="0" * 64)
    with pytest.raises(ValueError, match="not read from drop folder"):
        drop.mark_done(stranger, "processed")
    (tmp_path / "inv.xml").unlink()
    with pytest.raises(FileNotFoundError, match="no longer in drop folder"):
        drop.mark_done(file, "processed")


def test_a_missing_folder_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(DropFolder(tmp_path / "missing").scan())
