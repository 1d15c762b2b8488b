"""Channel limits (X weighted length, Bluesky graphemes, Mastodon, SMS segments) and placeholder filling."""

from datetime import date

import pytest

from responses import fill, limits
from responses.fill import Values

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
FLAG_ENGLAND = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
CJK_160 = ("故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"
           "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
           "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"
           "遥知兄弟登高处，遍插茱萸少一人。")


# Cases from twitter-text's conformance suite (validate.yml, the v3 weighting with emoji parsing)
@pytest.mark.parametrize("text, weighted", [
    ("This is a test.", 15),
    ("http://test.com", 23),
    ("test.com", 23),  # a URL without a scheme is a link too
    ("Test https://test.com test https://test.com test.com test", 86),
    ("https://www.twitter.com/aloha " * 10, 240),
    (CJK_160, 320),  # CJK weighs 2
    ("the" + CJK_160, 323),
    ("😷" * 160, 320),  # an emoji weighs 2
    (FAMILY * 140, 280),  # a ZWJ family is one emoji
    ("Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; " + FLAG_ENGLAND, 34),  # skin tone and tag-sequence flag: one emoji each
    ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29),
    ("ÁB", 2),  # NFC: A + combining acute is one character
    ("Aשּׁ", 4),  # ... and this one normalises to three
    ("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069", 31),  # directional marks around a link weigh 2 each
    ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),  # a 64-letter label is no domain
    ("General punctuation: ‐ – — ‘ ’ “ ” ′ ″", 38),  # U+2010-201F and U+2032-2037 weigh 1
])
def test_x_weighted_length_follows_twitter_text(text, weighted):
    assert limits.x_length(text) == weighted


def test_x_limit_is_280_weighted_characters():
    assert limits.check("x", "a" * 280).ok and not limits.check("x", "a" * 281).ok
    assert not limits.check("x", "日" * 141).ok  # 282 weighted
    over = limits.check("x", "a" * 260 + " https://harborcounty.example/a/very/long/path/that/is/long")
    assert over.used == 260 + 1 + 23 and "4 over" in over.summary


def test_links_at_the_end_of_a_sentence_leave_the_full_stop_out():
    assert limits.x_urls("See harbor.gov/testing. Thanks") == [(4, 22)]
    assert limits.x_length("See harbor.gov/testing.") == 4 + 23 + 1
    assert limits.x_length("write to me@harbor.gov") == len("write to me@harbor.gov")  # an address is no link


def test_bluesky_counts_graphemes_and_links_as_written():
    assert limits.check("bluesky", FAMILY * 100).used == 100  # one grapheme each, 25 bytes each
    assert limits.check("bluesky", "😷" * 300).ok and not limits.check("bluesky", "😷" * 301).ok
    assert limits.check("bluesky", "é" * 300).ok and not limits.check("bluesky", "e\u0301" * 301).ok
    link = "https://harborcounty.example/" + "x" * 40
    assert limits.check("bluesky", link).used == len(link)


def test_bluesky_byte_limit():
    check = limits.check("bluesky", FAMILY * 300)
    assert not check.ok and check.unit == "bytes" and check.limit == 3000


def test_mastodon_counts_links_as_23_and_mentions_without_their_server():
    text = "Thanks @nurse@health.social, see https://harborcounty.example/" + "x" * 80
    assert limits.mastodon_length(text) == len("Thanks @nurse, see ") + 23
    assert limits.check("mastodon", "😷" * 500).ok and not limits.check("mastodon", "😷" * 501).ok


@pytest.mark.parametrize("text, encoding, units, segments", [
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),  # concatenated: 153 per segment
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
    ("{}" * 41, "GSM-7", 164, 2),
    ("a" * 152 + "€", "GSM-7", 154, 1),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # ... and are never split across segments (else 2 x 153)
    ("a" * 70 + "é", "GSM-7", 71, 1),  # é is in the GSM-7 basic set
    ("a" * 69 + "á", "UCS-2", 70, 1),  # á is not: the whole message becomes UCS-2
    ("a" * 70 + "á", "UCS-2", 71, 2),
    ("😷" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
    ("😷" * 36, "UCS-2", 72, 2),
    ("á" * 66 + "😷" + "á" * 66, "UCS-2", 134, 3),  # a surrogate pair is never split (else 2 x 67)
    ("测试" * 35, "UCS-2", 70, 1),
    ("", "GSM-7", 0, 0),
])
def test_sms_segments(text, encoding, units, segments):
    assert limits.sms_segments(text) == (encoding, units, segments)


def test_sms_check_shows_segments_and_fails_past_the_maximum():
    check = limits.check("sms", "a" * 400, sms_max_segments=2)
    assert check.segments == 3 and not check.ok and "3 segments" in check.summary and "GSM-7" in check.summary
    assert limits.check("sms", "😷 " * 20).summary.startswith("SMS: 1 segment (UCS-2")


def test_long_form_channels_have_no_limit_and_unknown_channels_are_refused():
    assert limits.check("email", "x" * 50_000).ok and limits.check("web", "").limit is None
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        limits.check("fax", "hello")


def test_placeholders_are_filled_and_typos_reported():
    values = Values(agency="Harbor County Public Health", link="https://harborcounty.example/t",
                    date="March 3, 2026", place="Port Harbor")
    text = "{agency}: testing in {place} is free ({date}). {link} {agncy} {\"json\": 1}"
    assert fill.fill(text, values) == ("Harbor County Public Health: testing in Port Harbor is free (March 3, 2026). "
                                       "https://harborcounty.example/t {agncy} {\"json\": 1}")
    assert fill.unknown(text) == ["agncy"]
    assert fill.missing("{place} {link}", Values(agency="A")) == ["link", "place"]
    assert fill.fill("{place}", Values(agency="A")) == "{place}"  # nothing to fill: left visible, not blank


def test_date_format_and_values():
    assert fill.format_date(date(2026, 3, 3)) == "March 3, 2026"
    assert fill.format_date(date(2026, 3, 3), "%d/%m/%Y") == "03/03/2026"
    v = fill.values_for("HCPH", ["", "https://a.example/x"], date(2026, 1, 9), "Port Harbor")
    assert v.link == "https://a.example/x" and v.date == "January 9, 2026"


def test_the_place_is_the_configured_place_the_posts_name_most():
    posts = ["Fairgrounds line is 3 hours", "Port Harbor fairgrounds again", "the port harbor site", "nothing here"]
    assert fill.place_for(posts, ["Port Harbor", "fairgrounds", "Harbor County"], "Harbor County") == "Port Harbor"
    assert fill.place_for(["no place"], ["Port Harbor"], "Harbor County") == "Harbor County"
