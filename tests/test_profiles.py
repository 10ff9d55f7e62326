"""Profiles as data (SPEC 12): the built-in tables, TOML both ways, house profiles that
may only tighten, the intersection fix aims at, and the configuration's keys.

No media here: media sitting just inside and just outside every limit of each
built-in profile is in test_profiles_media.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from igpreflight.config import ConfigError, load_settings
from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS, SOURCE_STATUSES, VIDEO_LIMITS
from igpreflight.model import Role
from igpreflight.profiles import (
    BUILTIN,
    FACEBOOK_REELS,
    INSTAGRAM,
    THREADS,
    ProfileError,
    from_toml,
    house_profile,
    intersect,
    is_default,
    resolve,
    show,
)
from igpreflight.profiles.model import IMAGE_ROLES, SECTION_ROLES, VIDEO_ROLES
from igpreflight.profiles.schema import SECTION_FIELDS

HOUSE = {"extends": "instagram", "image": {"max_width": 1080, "aspects": ["4:5"]}}


def house(table: dict, name: str = "house", known=None):
    return house_profile(name, table, where="test", known=known or BUILTIN)


# ---------------------------------------------------------------- the built-in tables


def test_instagram_is_todays_table() -> None:
    """The default profile is limits.py as it was: every rule's numbers unchanged."""
    assert INSTAGRAM.images == tuple(IMAGE_LIMITS[r] for r in IMAGE_ROLES)
    assert INSTAGRAM.videos == tuple(VIDEO_LIMITS[r] for r in VIDEO_ROLES)
    assert INSTAGRAM.post == POST_LIMITS
    assert is_default(()) and is_default((INSTAGRAM,)) and not is_default((THREADS,))


@pytest.mark.parametrize("profile", list(BUILTIN.values()), ids=list(BUILTIN))
def test_show_round_trips(profile) -> None:
    text = show(profile)
    assert from_toml(text) == profile
    assert show(from_toml(text)) == text  # stable text


def test_threads_values_are_metas() -> None:
    image, video = THREADS.image(Role.FEED_IMAGE), THREADS.video(Role.REELS)
    assert image.accepted_formats == ("JPEG", "PNG") and image.tolerated_formats == ()
    assert (image.max_bytes, image.min_aspect, image.max_aspect) == (8_000_000, 0.1, 10.0)
    assert (image.min_width, image.max_width) == (320, 1440)
    assert (video.min_fps, video.max_fps, video.max_width) == (23, 60, 1920)
    assert (video.min_aspect, video.max_aspect, video.max_duration) == (0.01, 10.0, 300)
    assert (video.max_bytes, video.max_video_bitrate) == (1_000_000_000, 100_000_000)
    assert (THREADS.post.max_caption, THREADS.post.max_carousel_items) == (500, 20)
    assert THREADS.post.emoji_as_utf8_bytes and THREADS.platform == "Threads"


def test_facebook_reels_values_are_metas() -> None:
    reels, story = FACEBOOK_REELS.video(Role.REELS), FACEBOOK_REELS.video(Role.STORY_VIDEO)
    assert not FACEBOOK_REELS.takes_images
    assert (reels.min_aspect, reels.max_aspect, reels.recommended_aspect) == (
        9 / 16,
        16 / 9,
        9 / 16,
    )
    assert (reels.min_short_edge, reels.min_long_edge) == (540, 960)
    assert (reels.min_fps, reels.max_fps, reels.min_duration, reels.max_duration) == (24, 60, 3, 90)
    assert story.max_duration == 60
    assert (reels.min_audio_channels, reels.max_audio_channels) == (2, 2)
    assert reels.min_audio_sample_rate == reels.max_audio_sample_rate == 48_000
    assert reels.containers == ("MPEG-4",)


@pytest.mark.parametrize("profile", [THREADS, FACEBOOK_REELS], ids=["threads", "facebook-reels"])
def test_every_value_has_a_source(profile) -> None:
    """Each value of a built-in profile says where it comes from: an official URL and the
    date it was read, "unverified" with the third-party page, or igpreflight's policy."""
    sections = [("post", None)] + [(s, r) for s in ("image", "video") for r in SECTION_ROLES[s]]
    for section, role in sections:
        if section == "image" and not profile.takes_images:
            role_fields = ["accepted_formats", "tolerated_formats"]
        else:
            role_fields = list(SECTION_FIELDS[section])
        for name in role_fields:
            if name in ("aspects", "aspect_tolerance", "required_hashtags", "forbidden_hashtags"):
                continue  # house-rule keys: empty in a platform's profile
            src = profile.source(section, role, name)
            assert src is not None, (profile.name, section, role, name)
            assert src.status in SOURCE_STATUSES
            if src.status != "policy":
                assert src.url.startswith("https://") and src.read, (section, name, src)
            if src.status == "official":
                assert "facebook.com" in src.url


def test_unverified_values_name_their_third_party_page() -> None:
    src = FACEBOOK_REELS.source("video", Role.REELS, "max_video_bitrate")
    assert src.status == "unverified" and "postiz.com" in src.url


# ---------------------------------------------------------------- house profiles


def test_a_house_profile_tightens_and_is_sourced_as_house_rules() -> None:
    p = house(HOUSE)
    assert p.extends == "instagram" and p.platform == "Instagram"
    assert p.image(Role.FEED_IMAGE).max_width == 1080
    assert p.image(Role.FEED_IMAGE).aspects == (0.8,)
    assert p.image(Role.FEED_IMAGE).max_bytes == 8_000_000  # untouched values are the base's
    assert p.source("image", Role.FEED_IMAGE, "max_width").status == "house"
    assert p.source("image", Role.FEED_IMAGE, "max_bytes") == INSTAGRAM.source(
        "image", Role.FEED_IMAGE, "max_bytes"
    )
    assert from_toml(show(p)) == p  # a house profile round-trips too


def test_role_tables_change_one_role() -> None:
    p = house({"extends": "instagram", "video": {"reels": {"max_duration": 60}}})
    assert p.video(Role.REELS).max_duration == 60
    assert p.video(Role.STORY_VIDEO).max_duration == 60  # instagram's own
    assert p.video(Role.CAROUSEL_VIDEO) == INSTAGRAM.video(Role.CAROUSEL_VIDEO)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"image": {"max_width": 2000}}, "image.max_width 2000 is looser than instagram's 1440"),
        (
            {"video": {"reels": {"max_duration": 1000}}},
            "video.reels.max_duration 1000.0 is looser than instagram's 900.0",
        ),
        ({"video": {"min_fps": 20}}, "video.min_fps 20.0 is looser than instagram's 23.0"),
        ({"image": {"accepted_formats": ["JPEG", "WEBP"]}}, "is looser than instagram's JPEG"),
        (
            {"post": {"max_carousel_items": 20}},
            "post.max_carousel_items 20 is looser than instagram's 10",
        ),
        (
            {"image": {"feed": {"min_aspect": "none"}}},
            "image.feed.min_aspect none is looser than instagram's 4:5",
        ),
        ({"video": {"max_aspect": "11:1"}}, "is looser than instagram's 10:1"),
    ],
)
def test_a_looser_value_is_an_error_naming_both(table, says) -> None:
    with pytest.raises(ProfileError, match="may only tighten") as err:
        house({"extends": "instagram", **table})
    assert says in str(err.value)


def test_a_house_profile_extending_threads_may_not_exceed_threads() -> None:
    ok = house({"extends": "threads", "post": {"max_carousel_items": 15}})
    assert ok.post.max_carousel_items == 15
    with pytest.raises(ProfileError, match="21 is looser than threads's 20"):
        house({"extends": "threads", "post": {"max_carousel_items": 21}})


def test_a_link_limit_is_kept_by_houses_and_added_by_them() -> None:
    """Threads refuses more than 5 links; "none" would be looser. Instagram has no
    limit, so a house over it may set one."""
    assert house({"extends": "threads"}).post.max_links == 5
    with pytest.raises(ProfileError, match="looser than threads"):
        house({"extends": "threads", "post": {"max_links": "none"}})
    assert house({"extends": "instagram", "post": {"max_links": 3}}).post.max_links == 3


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"image": {"max_widht": 1080}}, "unknown key 'max_widht' (did you mean \"max_width\"?)"),
        ({"vidoe": {}}, "unknown key 'vidoe' (did you mean \"video\"?)"),
        ({"video": {"reel": {"max_duration": 60}}}, 'did you mean "reels"?'),
        ({"post": {"requird_hashtags": ["#a"]}}, 'did you mean "required_hashtags"?'),
        ({"image": {"max_width": "wide"}}, "'wide' is not a whole number"),
        ({"image": {"aspects": ["4-5"]}}, "is not a ratio"),
        ({"sources": {"x": {"status": "rumour"}}}, "status 'rumour' is not one of"),
    ],
)
def test_bad_keys_and_values_are_errors(table, says) -> None:
    with pytest.raises(ProfileError) as err:
        house({"extends": "instagram", **table})
    assert says in str(err.value)


def test_extends_is_required_and_must_exist() -> None:
    with pytest.raises(ProfileError, match='needs extends = "NAME"'):
        house({"image": {"max_width": 1000}})
    with pytest.raises(ProfileError, match='did you mean "threads"'):
        house({"extends": "thread"})
    with pytest.raises(ProfileError, match="is a built-in profile"):
        house({"extends": "instagram"}, name="threads")


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"image": {"min_width": 1200, "max_width": 1000}}, "min_width 1200 px"),
        ({"image": {"aspects": ["2:1"]}}, "aspects 2:1 is outside 4:5..1.91:1"),
        (
            {"post": {"required_hashtags": ["#ad"], "forbidden_hashtags": ["ad"]}},
            "both required and forbidden",
        ),
        ({"video": {"min_duration": 30, "max_duration": 20}}, "min_duration"),
    ],
)
def test_an_inconsistent_house_profile_is_an_error(table, says) -> None:
    with pytest.raises(ProfileError) as err:
        house({"extends": "instagram", **table})
    assert says.split(" px")[0] in str(err.value)


def test_hashtags_are_normalised() -> None:
    p = house({"extends": "instagram", "post": {"required_hashtags": ["brand", "#Spring"]}})
    assert p.post.required_hashtags == ("#brand", "#Spring")


# ---------------------------------------------------------------- intersection


def test_one_profile_is_its_own_target() -> None:
    target = intersect([THREADS])
    assert target.profile is THREADS and target.conflict(Role.FEED_IMAGE) is None


def test_the_intersection_takes_the_strictest_of_each() -> None:
    target = intersect([INSTAGRAM, THREADS, FACEBOOK_REELS])
    reels = target.profile.video(Role.REELS)
    assert (reels.min_fps, reels.max_fps) == (24, 60)  # facebook's 24, everyone's 60
    assert (reels.min_aspect, reels.max_aspect) == (9 / 16, 16 / 9)
    assert (reels.min_duration, reels.max_duration) == (3, 90)
    assert reels.max_bytes == 300_000_000 and reels.max_video_bitrate == 25_000_000
    assert reels.containers == ("MPEG-4",) and reels.video_codecs == ("AVC", "HEVC")
    assert (reels.min_audio_channels, reels.min_audio_sample_rate) == (2, 48_000)
    assert target.profile.post.max_caption == 500
    assert target.conflict(Role.REELS) is None
    assert target.profile.name == "instagram+threads+facebook-reels"


def test_formats_tolerated_by_one_and_accepted_by_another_stay_tolerated() -> None:
    feed = intersect([INSTAGRAM, THREADS]).profile.image(Role.FEED_IMAGE)
    assert feed.accepted_formats == ("JPEG",) and feed.tolerated_formats == ("PNG",)
    assert (feed.min_aspect, feed.max_aspect) == (0.8, 1.91)


def test_an_empty_intersection_names_the_conflicting_profiles() -> None:
    why = intersect([INSTAGRAM, FACEBOOK_REELS]).conflict(Role.FEED_IMAGE)
    assert why.startswith("no image passes both instagram and facebook-reels")
    assert "facebook-reels none" in why and "\n" not in why
    square = house({"extends": "facebook-reels", "video": {"aspects": ["9:16"]}}, "vertical")
    wide = house({"extends": "instagram", "video": {"aspects": ["1:1"]}}, "square")
    why = intersect([square, wide]).conflict(Role.REELS)
    assert "no aspect ratio is allowed by all" in why
    assert "vertical 9:16" in why and "square 1:1" in why
    slow = house({"extends": "instagram", "video": {"max_fps": 24, "min_fps": 23}}, "slow")
    fast = house({"extends": "instagram", "video": {"min_fps": 30}}, "fast")
    why = intersect([slow, fast]).conflict(Role.REELS)
    assert "fast needs min_fps 30" in why and "slow max_fps 24" in why


def test_allowed_ratios_intersect_within_tolerance() -> None:
    a = house({"extends": "instagram", "image": {"aspects": ["4:5", "1:1"]}}, "a")
    b = house({"extends": "threads", "image": {"aspects": ["1:1", "9:16"]}}, "b")
    feed = intersect([a, b]).profile.image(Role.FEED_IMAGE)
    assert feed.aspects == (1.0,)


# ---------------------------------------------------------------- names and the configuration


def test_resolve_names_files_and_objects(tmp_path: Path) -> None:
    (tmp_path / "brand.toml").write_text('extends = "threads"\n[post]\nmax_caption = 280\n')
    found = resolve(["instagram, threads", THREADS, "brand.toml"], root=tmp_path)
    assert [p.name for p in found] == ["instagram", "threads", "brand"]
    assert found[2].post.max_caption == 280
    with pytest.raises(ProfileError, match='did you mean "facebook-reels"'):
        resolve("facebook-reel")


def test_configuration_profile_and_profiles(tmp_path: Path) -> None:
    (tmp_path / "igpreflight.toml").write_text(
        'profile = "instagram,threads"\n'
        "[profiles]\n"
        '"reels/**" = ["instagram", "facebook-reels", "short"]\n'
        '"*.png" = "brand"\n'
        "[profiles.brand]\n"
        'extends = "short"\n'
        "[profiles.short]\n"
        'extends = "instagram"\n'
        "video.max_duration = 60\n"
    )
    rules = load_settings(start=tmp_path).rules
    names = lambda path: [p.name for p in rules.profiles_for(tmp_path / path)]  # noqa: E731
    assert names("a.jpg") == ["instagram", "threads"]
    assert names("reels/b.mp4") == ["instagram", "facebook-reels", "short"]
    assert names("c.png") == ["brand"]
    assert dict(rules.house)["brand"].video(Role.REELS).max_duration == 60
    cli = load_settings(start=tmp_path, profile="threads").rules  # --profile wins everywhere
    assert [p.name for p in cli.profiles_for(tmp_path / "reels/b.mp4")] == ["threads"]


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ('profile = "instagrm"', 'did you mean "instagram"'),
        ('profil = "threads"', "unknown key 'profil' (did you mean \"profile\"?)"),
        (
            '[profiles.h]\nextends = "instagram"\nimage.max_width = 9999',
            "9999 is looser than instagram's 1440",
        ),
        ('[profiles]\n"*.jpg" = 3', "write profile names"),
        ("[profiles.h]\nimage.max_width = 100", "needs extends"),
        ('[profiles.a]\nextends = "b"\n[profiles.b]\nextends = "a"', "no such profile"),
    ],
)
def test_a_bad_profile_configuration_is_a_config_error(tmp_path: Path, config, says) -> None:
    (tmp_path / "igpreflight.toml").write_text(config + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(start=tmp_path)
    assert says in str(err.value)


def test_profile_objects_are_plain_frozen_data() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        THREADS.name = "x"  # type: ignore[misc]
    assert hash(THREADS) == hash(from_toml(show(THREADS)))
