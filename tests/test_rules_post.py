"""Post rules POST001-POST019 on posts and facts built directly (no files), each with
a case that triggers it and a boundary case that does not."""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import GOOD_IMAGE
from hypothesis import given, settings
from hypothesis import strategies as st

from igpreflight.catalog import RULES
from igpreflight.limits import POST_LIMITS
from igpreflight.model import MediaItem, Post, Severity, Tag, Unreadable, VideoFacts
from igpreflight.preflight.checks import check_post, check_posts
from igpreflight.preflight.rules import REGISTRY, PostContext
from igpreflight.preflight.rules.post import hashtags, links, mentions

JPG = replace(GOOD_IMAGE, path="/m/a.jpg", bytes=400_000)
MP4 = VideoFacts(
    path="/m/v.mp4",
    bytes=4_000_000,
    container="MPEG-4",
    is_streamable=True,
    duration=10.0,
    has_video=True,
    has_audio=False,
    video_codec="AVC",
    width=1080,
    height=1350,
    fps=30.0,
    extension="mp4",
)
FACTS = {
    "/m/a.jpg": JPG,
    "/m/b.jpg": replace(JPG, path="/m/b.jpg"),
    "/m/wide.jpg": replace(JPG, path="/m/wide.jpg", width=1920, height=1080),
    "/m/near.jpg": replace(JPG, path="/m/near.jpg", width=1080, height=1340),  # 0.75% off 4:5
    "/m/v.mp4": MP4,
    "/m/tall.mp4": replace(MP4, path="/m/tall.mp4", width=1080, height=1920),
    "/m/bad.jpg": Unreadable(path="/m/bad.jpg", reason="truncated"),
}
CTX = PostContext(facts=FACTS)


def item(name: str, **kw) -> MediaItem:
    return MediaItem(path=name, resolved=f"/m/{name}", **kw)


def post(media_type: str = "IMAGE", media=("a.jpg",), **kw) -> Post:
    items = tuple(m if isinstance(m, MediaItem) else item(m) for m in media)
    return Post(id=kw.pop("id", "p"), media_type=media_type, media=items, **kw)


def codes(p: Post) -> list[str]:
    return [f.rule for f in check_post(p, CTX)]


def found(p: Post, code: str):
    return [f for f in check_post(p, CTX) if f.rule == code]


def only(p: Post, code: str):
    got = found(p, code)
    assert len(got) == 1, got
    return got[0]


def test_clean_posts_have_no_findings():
    assert check_post(post(), CTX) == []
    assert check_post(post("REELS", ["tall.mp4"], caption="hi #one"), CTX) == []
    assert check_post(post("STORIES", ["a.jpg", "tall.mp4"]), CTX) == []
    assert check_post(post("CAROUSEL", ["a.jpg", "v.mp4"], caption="two"), CTX) == []


# POST001 caption length in code points
def test_post001_2200_emoji_pass_2201_fail():
    emoji = "\U0001f600"  # 4 bytes in UTF-8, 2 UTF-16 units, 1 code point
    assert "POST001" not in codes(post(caption=emoji * 2200))
    f = only(post(caption=emoji * 2201), "POST001")
    assert "2,201" in f.message and "2,200" in f.message and f.code == 36004


def test_post001_combining_characters_count_as_code_points():
    assert "POST001" in codes(post(caption="e\u0301" * 1101))  # 2202 code points


# POST002 / POST004 hashtags
def _tags(n: int) -> str:
    return " ".join(f"#tag{i}" for i in range(n))


def test_post002_30_pass_31_fail():
    assert "POST002" not in codes(post(caption=_tags(30)))
    f = only(post(caption=_tags(31)), "POST002")
    assert "31 hashtags" in f.message and "30" in f.message


def test_post004_warns_above_5_and_flags_spam_risk_above_15():
    assert "POST004" not in codes(post(caption=_tags(5)))
    f = only(post(caption=_tags(6)), "POST004")
    assert f.severity is Severity.WARNING and "6 hashtags" in f.message
    assert "spam" not in f.message
    assert "spam risk" not in only(post(caption=_tags(15)), "POST004").message
    assert "spam risk" in only(post(caption=_tags(16)), "POST004").message
    assert "POST004" not in codes(post(caption=_tags(31)))  # POST002's error says it


def test_hashtag_tokenisation():
    text = (
        "#café #日本 #_x #ok_2 #2024 C# &#39; word#not "
        "https://x.com/#about www.site.org/#anchor mail ana@x.com #end."
    )
    assert hashtags(text) == ["#café", "#日本", "#_x", "#ok_2", "#end"]
    assert len(hashtags("#a#b")) == 1  # '#b' directly after a word is not a new tag
    assert len(hashtags("#dup #dup")) == 2  # every occurrence counts


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.text(st.characters(categories=["Lu", "Ll", "Lo"]), min_size=1, max_size=8),
        max_size=40,
    ),
    sep=st.sampled_from([" ", "\n", " 😀 ", ", "]),
)
def test_hashtags_in_any_script_are_counted(words, sep):
    caption = sep.join("#" + w for w in words)
    assert len(hashtags(caption)) == len(words)
    assert ("POST002" in codes(post(caption=caption))) == (len(words) > 30)


# POST003 mentions
def _mentions(n: int) -> str:
    return " ".join(f"@user.{i}" for i in range(n))


def test_post003_20_pass_21_fail():
    assert "POST003" not in codes(post(caption=_mentions(20)))
    f = only(post(caption=_mentions(21)), "POST003")
    assert "21 @mentions" in f.message and "20" in f.message


def test_mention_tokenisation():
    text = "hi @ana, @bob.smith. mail ana@example.com or see https://x.com/@carl @_x"
    assert mentions(text) == ["@ana", "@bob.smith", "@_x"]


# POST005 carousel size
def test_post005_carousel_sizes():
    assert "POST005" not in codes(post("CAROUSEL", ["a.jpg", "b.jpg"]))
    assert "POST005" not in codes(post("CAROUSEL", ["a.jpg"] * 10))
    assert "1 item;" in only(post("CAROUSEL", ["a.jpg"]), "POST005").message
    f = only(post("CAROUSEL", ["a.jpg"] * 11), "POST005")
    assert "11 items" in f.message and "2 to 10" in f.message


# POST006 media_type
def test_post006_unknown_type():
    assert "GIF" in only(post("GIF"), "POST006").message


def test_post006_video_is_deprecated_for_single_posts():
    f = only(post("VIDEO", ["v.mp4"]), "POST006")
    assert "deprecated" in f.message and "REELS" in f.message


def test_post006_kind_must_match():
    assert "is a video" in only(post("IMAGE", ["v.mp4"]), "POST006").message
    assert "is an image" in only(post("REELS", ["a.jpg"]), "POST006").message
    assert "POST006" not in codes(post("STORIES", ["a.jpg"]))
    assert "POST006" not in codes(post("STORIES", ["v.mp4"]))
    assert "POST006" not in codes(post("REELS", ["v.mp4"]))


def test_post006_single_media_types_take_one_media():
    assert "takes 1 media, got 2" in only(post("IMAGE", ["a.jpg", "b.jpg"]), "POST006").message


def test_post006_carousel_child_marked_wrong():
    p = post("CAROUSEL", [item("a.jpg", media_type="VIDEO"), item("v.mp4", media_type="VIDEO")])
    assert "item 1 (a.jpg)" in only(p, "POST006").message


def test_post006_inferred_type_and_unreadable_media_are_not_judged():
    assert "POST006" not in codes(post("", ["v.mp4"]))
    assert "POST006" not in codes(post("REELS", ["bad.jpg"]))
    assert "POST006" not in codes(post("IMAGE", ["missing.jpg"]))


# POST013 carousel item types
@pytest.mark.parametrize("t", ["REELS", "STORIES", "CAROUSEL"])
def test_post013_bad_child_types(t):
    p = post("CAROUSEL", [item("a.jpg"), item("v.mp4", media_type=t)])
    f = only(p, "POST013")
    assert t in f.message and "item 2" in f.message


def test_post013_image_and_video_children_pass():
    p = post("CAROUSEL", [item("a.jpg", media_type="IMAGE"), item("v.mp4", media_type="VIDEO")])
    assert "POST013" not in codes(p)


# POST014 carousel ratios
def test_post014_differing_ratio():
    f = only(post("CAROUSEL", ["a.jpg", "wide.jpg", "b.jpg"]), "POST014")
    assert "item 2 (wide.jpg)" in f.message and "1.778" in f.message and "0.800" in f.message


def test_post014_within_tolerance_and_unreadable_pass():
    assert "POST014" not in codes(post("CAROUSEL", ["a.jpg", "near.jpg", "v.mp4"]))
    assert "POST014" not in codes(post("CAROUSEL", ["a.jpg", "bad.jpg"]))
    assert "POST014" not in codes(post("CAROUSEL", ["bad.jpg", "wide.jpg"]))


# POST012 ignored captions
def test_post012_story_caption_and_child_caption():
    assert "STORIES" in only(post("STORIES", caption="hello"), "POST012").message
    p = post("CAROUSEL", [item("a.jpg", caption="child"), item("b.jpg")], caption="ok")
    assert "item 1" in only(p, "POST012").message
    assert "POST012" not in codes(post("IMAGE", caption="hello"))
    assert "POST012" not in codes(post("STORIES", caption=""))


# POST007 / POST018 thumb_offset
def test_post007_offset_inside_video():
    assert "POST007" not in codes(post("REELS", ["v.mp4"], thumb_offset=0))
    assert "POST007" not in codes(post("REELS", ["v.mp4"], thumb_offset=9999))
    f = only(post("REELS", ["v.mp4"], thumb_offset=10_000), "POST007")
    assert "10,000 ms" in f.message and "10,000 ms)" in f.message
    assert "negative" in only(post("REELS", ["v.mp4"], thumb_offset=-1), "POST007").message


def test_post007_only_for_videos():
    assert "POST007" not in codes(post("IMAGE", ["a.jpg"], thumb_offset=99_999))


def test_post018_offset_and_cover():
    cover = item("b.jpg")
    f = only(post("REELS", ["v.mp4"], thumb_offset=100, cover=cover), "POST018")
    assert f.severity is Severity.WARNING
    assert "POST018" not in codes(post("REELS", ["v.mp4"], cover=cover))
    assert "POST018" not in codes(post("REELS", ["v.mp4"], thumb_offset=100))


def test_post007_skipped_when_a_cover_is_given():
    """SPEC: thumb_offset is ignored when a cover is given, so it cannot be out of range."""
    cover = item("b.jpg")
    for t in (10_000, -1):
        found = codes(post("REELS", ["v.mp4"], thumb_offset=t, cover=cover))
        assert "POST007" not in found and "POST018" in found


# POST020 Reel-only fields on another post
def test_post020_reel_only_fields_on_other_posts():
    f = only(post("IMAGE", ["a.jpg"], share_to_feed=True), "POST020")
    assert f.severity is Severity.WARNING and not f.fixable
    assert f.message.startswith("share_to_feed is set on an IMAGE post; only a Reel takes it")
    story = post("STORIES", ["tall.mp4"], cover=item("b.jpg"), thumb_offset=100)
    assert "cover and thumb_offset are set on a STORIES post" in only(story, "POST020").message
    carousel = post("CAROUSEL", ["a.jpg", "v.mp4"], share_to_feed=False)
    assert "CAROUSEL post" in only(carousel, "POST020").message


def test_post020_quiet_on_reels_and_plain_posts():
    for kind in ("REELS", "VIDEO", ""):  # "" infers REELS for a single video
        p = post(kind, ["v.mp4"], share_to_feed=True, cover=item("b.jpg"), thumb_offset=0)
        assert "POST020" not in codes(p), kind
    assert "POST020" not in codes(post("IMAGE", ["a.jpg"]))
    assert "POST020" not in codes(post("STORIES", ["tall.mp4"]))


# POST008 product tag positions
def test_post008_video_with_xy_and_image_without():
    on_video = post("REELS", ["v.mp4"], product_tags=(Tag(product_id="1", x=0.5, y=0.5),))
    assert "is a video" in only(on_video, "POST008").message
    on_image = post(product_tags=(Tag(product_id="1"),))
    assert "no x/y" in only(on_image, "POST008").message


def test_post008_correct_tags_pass():
    assert "POST008" not in codes(post("REELS", ["v.mp4"], product_tags=(Tag(product_id="1"),)))
    assert "POST008" not in codes(post(product_tags=(Tag(product_id="1", x=0.0, y=1.0),)))


def test_post008_carousel_child_tags():
    child = item("a.jpg", product_tags=(Tag(product_id="9"),))
    f = only(post("CAROUSEL", [item("b.jpg"), child]), "POST008")
    assert "item 2 (a.jpg)" in f.message


# POST009 duplicate products
def test_post009_duplicate_ids():
    tags = (Tag(product_id="7", x=0.1, y=0.1), Tag(product_id="7", x=0.2, y=0.2))
    assert "7" in only(post(product_tags=tags), "POST009").message
    assert "POST009" not in codes(post(product_tags=(tags[0], Tag(product_id="8", x=0, y=0))))


# POST010 coordinates
@pytest.mark.parametrize("x, y", [(1.01, 0.5), (0.5, -0.01), (float("nan"), 0.5)])
def test_post010_out_of_range(x, y):
    assert "POST010" in codes(post(user_tags=(Tag(username="ana", x=x, y=y),)))
    assert "POST010" in codes(post(product_tags=(Tag(product_id="1", x=x, y=y),)))


def test_post010_edges_pass():
    tags = (Tag(username="ana", x=0.0, y=0.0), Tag(username="bob", x=1.0, y=1.0))
    assert "POST010" not in codes(post(user_tags=tags))


# POST011 product tag count
def test_post011_more_than_5():
    five = tuple(Tag(product_id=str(i), x=0.1, y=0.1) for i in range(5))
    assert "POST011" not in codes(post(product_tags=five))
    six = five + (Tag(product_id="x", x=0.1, y=0.1),)
    assert "6 product tags" in only(post(product_tags=six), "POST011").message


# POST016 user tags
def test_post016_image_needs_xy_story_does_not():
    assert "@ana have no x/y" in only(post(user_tags=(Tag(username="ana"),)), "POST016").message
    assert "POST016" not in codes(post("STORIES", user_tags=(Tag(username="ana"),)))
    assert "POST016" not in codes(post(user_tags=(Tag(username="ana", x=0.5, y=0.5),)))


def test_post016_carousel_video_takes_none():
    child = item("v.mp4", user_tags=(Tag(username="ana"),))
    assert "carousel video" in only(post("CAROUSEL", ["a.jpg", child]), "POST016").message
    reel = post("REELS", ["v.mp4"], user_tags=(Tag(username="ana"),))
    assert "POST016" not in codes(reel)


def test_post016_more_than_20():
    twenty = tuple(Tag(username=f"u{i}", x=0.5, y=0.5) for i in range(20))
    assert "POST016" not in codes(post(user_tags=twenty))
    over = twenty + (Tag(username="x", x=0.5, y=0.5),)
    assert "21 user tags" in only(post(user_tags=over), "POST016").message


# POST017 alt text
def test_post017_length_and_kind():
    assert "POST017" not in codes(post(alt_text="a" * 1000))
    assert "1,001" in only(post(alt_text="a" * 1001), "POST017").message
    assert "video" in only(post("REELS", ["v.mp4"], alt_text="x"), "POST017").message
    child = item("v.mp4", alt_text="x")
    assert "video" in only(post("CAROUSEL", ["a.jpg", child]), "POST017").message
    ok_child = item("b.jpg", alt_text="fine")
    assert "POST017" not in codes(post("CAROUSEL", ["a.jpg", ok_child]))


# POST019 collaborators
def test_post019_collaborators():
    assert "POST019" not in codes(post(collaborators=("a", "b", "c")))
    assert "4 collaborators" in only(post(collaborators=("a", "b", "c", "d")), "POST019").message


# POST015 duplicate captions (batch)
def test_post015_duplicate_captions_in_batch():
    a = post(id="a", caption="Launch day")
    b = post(id="b", caption="  Launch   day ")
    c = post(id="c", caption="Other")
    d = post(id="d", caption="")
    e = post(id="e", caption="")
    out = check_posts([a, b, c, d, e], FACTS)
    assert [f.rule for f in out["a"]] == ["POST015"] and "b" in out["a"][0].message
    assert [f.rule for f in out["b"]] == ["POST015"]
    assert out["c"] == [] and out["d"] == [] and out["e"] == []


def test_check_posts_sorted_and_keyed_by_id():
    p = post(id="x", caption=_tags(6), collaborators=("a", "b", "c", "d"))
    out = check_posts([p, post(id="y", caption=p.caption)], FACTS)
    assert [f.rule for f in out["x"]] == ["POST019", "POST004", "POST015"]


def test_the_catalog_lists_exactly_the_registered_rules():
    assert REGISTRY.codes() == set(RULES)
    assert set(REGISTRY.batch) == {"POST015"}


# POST023 links (a Threads limit; Instagram has none)

THREADS_CTX = PostContext(facts=FACTS, limits=replace(CTX.limits, max_links=5, platform="Threads"))
SIX_LINKS = " ".join(f"https://shop.example/{i}" for i in range(6))


def test_post023_counts_unique_links_under_a_limit_and_nothing_without_one() -> None:
    over = post(caption=f"New in: {SIX_LINKS}")
    (f,) = [f for f in check_post(over, THREADS_CTX) if f.rule == "POST023"]
    assert f.severity == Severity.ERROR
    assert f.message == "caption has 6 unique links; Threads refuses more than 5"
    assert not found(over, "POST023")  # Instagram: no limit


def test_post023_counts_a_link_once_however_it_is_written() -> None:
    same = "www.shop.example, https://WWW.shop.example/ (www.shop.example.) www.shop.example!"
    five = " ".join(f"https://shop.example/{i}" for i in range(4))
    at_limit = post(caption=f"{five} {same}")
    assert len(links(at_limit.caption)) == 5
    assert not [f for f in check_post(at_limit, THREADS_CTX) if f.rule == "POST023"]
    story = post("STORIES", caption=SIX_LINKS)
    assert not [f for f in check_post(story, THREADS_CTX) if f.rule == "POST023"]


def test_post023_reads_the_threads_profile() -> None:
    from igpreflight.profiles import THREADS

    assert THREADS.post.max_links == 5 and POST_LIMITS.max_links is None
    ctx = PostContext(facts=FACTS, limits=THREADS.post)
    assert [f.rule for f in check_post(post(caption=SIX_LINKS), ctx)] == ["POST023"]
