import pytest

from jpegai_fast.eval import anchors, bdrate


def test_published_curves_load_and_are_consistent():
    names = anchors.published_names()
    assert {"vtm", "bpg", "hm", "cheng2020-anchor", "mbt2018"} <= set(names)
    for key in names:
        c = anchors.published(key)
        assert len(c.bpp) == len(c.psnr_rgb) == len(c.ms_ssim) >= 6
        assert list(c.bpp) == sorted(c.bpp) and c.bpp[0] > 0
        assert all(0 < v < 1 for v in c.ms_ssim)
        assert c.source_file.startswith("results/image/kodak/") and len(c.commit) == 40
    assert "CompressAI" in anchors.source()


def test_published_vvc_beats_hevc_and_jpeg():
    vtm, bpg, jpeg = (anchors.published(k) for k in ("vtm", "bpg", "jpeg_pillow"))
    assert 0 < bdrate.bd_rate(vtm.bpp, vtm.psnr_rgb, bpg.bpp, bpg.psnr_rgb) < bdrate.bd_rate(
        vtm.bpp, vtm.psnr_rgb, jpeg.bpp, jpeg.psnr_rgb)


def test_unknown_keys_raise():
    with pytest.raises(ValueError, match="known"):
        anchors.published("nope")
    with pytest.raises(ValueError):
        anchors.published("vtm").metric("psnr_y")
