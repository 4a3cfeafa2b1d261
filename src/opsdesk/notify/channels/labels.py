"""Names of the channels as people read them (delivery lists, contact methods)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CHANNEL_LABELS = {
    "email": _("Email"),
    "screen": _("Screen"),
    "slack": "Slack",
    "teams": "Microsoft Teams",
    "telegram": "Telegram",
    "twilio_sms": _("SMS (Twilio)"),
    "twilio_voice": _("Voice call (Twilio)"),
    "nhn_sms": _("SMS (NHN Cloud)"),
    "sens_sms": _("SMS (Naver Cloud SENS)"),
    "kakao_alimtalk": _("KakaoTalk (AlimTalk)"),
}


def channel_label(name: str) -> str:
    return str(CHANNEL_LABELS.get(name, name))
