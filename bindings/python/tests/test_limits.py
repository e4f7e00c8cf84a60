"""A database whose map may not grow further raises Full and keeps its data."""
import pytest

import libprofile


def test_full_map_raises_full_and_keeps_data(tmp_path):
    with libprofile.open(tmp_path / "db", map_size=256 * 1024,
                         max_map_size=512 * 1024) as db:
        stored = []
        with pytest.raises(libprofile.Full) as info:
            for i in range(20000):
                stored.append(db.guests.add(name=f"Full Map Guest {i:05d}",
                                            email=f"full{i:05d}@example.com"))
        assert "maximum size" in str(info.value)
        assert len(stored) > 100
        assert db.guests.find(f"full{len(stored):05d}@example.com") == []
        last = db.guests.get(stored[-1].id)
        assert last.email == f"full{len(stored) - 1:05d}@example.com"
    with libprofile.open(tmp_path / "db", max_map_size=8 << 20) as db:
        db.guests.add(name="After The Cap")


def test_max_map_size_must_be_a_size(tmp_path):
    with pytest.raises(libprofile.InvalidInput):
        libprofile.open(tmp_path / "db", max_map_size=-1)
