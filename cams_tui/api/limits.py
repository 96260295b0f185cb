"""The documented limits of SendChatappMassMessage: plain constants, cheap to import."""

API_VERSION = "2020-06-06"
MAX_RECIPIENTS_PER_REQUEST = 1000
TTL_RANGE = (30, 1_209_600)
FALLBACK_DURATION_RANGE = (60, 43_200)
# Digits only, country code first, no "+": the shortest valid E.164 numbers have 7 digits
# (country code included) and the longest 15.
MSISDN_PATTERN = r"^[1-9][0-9]{6,14}$"
