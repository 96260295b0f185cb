"""A faithful local CAMS (Chat App Message Service) over real HTTP.

The official SDK cannot tell it from the service: same wire protocol (``POST /``,
parameters in the query string or in a form-encoded body, ``x-acs-action`` and
``x-acs-version: 2020-06-06`` headers), same ACS3-HMAC-SHA256 signature check, same error
bodies and HTTP statuses, same flow control.

Usage::

    from cams_tui.simulator import Simulator, SimulatorConfig, Faults

    sim = Simulator(SimulatorConfig(rate=10, latency_ms=50, record_delay_s=1.0, seed=1))
    async with sim.serve(port=0) as url:        # in the running event loop
        ...                                     # url is "http://127.0.0.1:<port>"
    with sim.run_in_thread(port=0) as url:      # for synchronous code, in a daemon thread
        sim.faults = Faults.parse("throttle=0.1,drop=0.05")   # replaceable at any time
    sim.accepted             # Counter: number -> times accepted by SendChatappMassMessage
    sim.accepted_requests    # AcceptedRequest(group_message_id, template_code, recipients, time, language, numbers)
    sim.stats                # {"SendChatappMassMessage": {"OK": 12, "System.LimitControl": 3}}

From a shell: ``cams-tui simulator [--port 8080] [--rate 10] [--latency-ms 50] [--faults SPEC]``.

What is faithful
----------------
* Signature: the canonical query is rebuilt from the *decoded* query (``+`` and ``%20`` are
  both a space), the canonical headers are exactly those in ``SignedHeaders`` (``host``,
  ``content-type`` and every ``x-acs-*`` header must be among them), and the payload hash
  must be the SHA-256 of the body received. Refusals: ``IncompleteSignature`` (400, no or
  garbled Authorization), ``InvalidAccessKeyId.NotFound`` (404), ``SignatureDoesNotMatch``
  (400, its message shows the server's string to sign, as the gateway does),
  ``SignatureNonceUsed`` (400), ``InvalidTimeStamp.Expired`` (400, ``x-acs-date`` more than
  15 minutes off). With ``SimulatorConfig(security_token=...)`` the key is an STS key and
  ``x-acs-security-token`` must match; otherwise a token is ``InvalidSecurityToken.Malformed``.
* Flow control: per account and per operation (the documented quota dimension: every
  AccessKey of the account, ``SimulatorConfig.extra_access_keys`` included, shares it), at most ``rate``
  SendChatappMassMessage calls in any sliding 1-second window (250/s for SendChatappMessage, 100/s for the
  listings). Calls the window admits count, whatever their later outcome; refused calls
  do not count. A refusal is ``System.LimitControl``, HTTP 400, with ``x-acs-retry-after``
  (milliseconds until a slot frees), which the SDK turns into its ThrottlingException.
* Required parameters, as the SDK's request models declare them, checked first in their
  order: ``Missing<Param>`` (HTTP 400). SendChatappMassMessage: ChannelType, From, Language
  (then TemplateCode or TemplateName, then SenderList); SendChatappMessage: ChannelType,
  From, To, Type; GetChatappTemplateDetail: Language; ListViberServiceMessage: CustSpaceId;
  ListChatappMessage: BusinessNumber, ChannelType, CustSpaceId, Page. A CustSpaceId other
  than the account's (``demo_data.DEMO_CUST_SPACE_ID``) is ``Authentication.NoAuth`` on any
  operation. A Page without an integer Index >= 1 and Size 1-100 is
  ``InvalidParameter.PageInvalid``. With ``ignore_body`` the gateway reads only the query
  string, so a body-placed call lacks everything (``MissingChannelType`` for a mass send).
* Validation, as HTTP 400 with a ``Code``: ``InvalidParameter.ChannelTypeNotSupport`` (not viber);
  ``DetailError.TemplateNotExist``; ``InvalidParameter.LanguageNotSupport`` (the template
  lacks that language); ``Template.AuditNotPass`` (template not approved; the real code is
  unconfirmed); ``InvalidParameter.FromOnlyNumeric`` / ``InvalidParameter.From`` (unknown or
  inactive Service ID); ``InvalidParameter.SenderList`` (not a JSON list of 1 to 1,000
  objects); ``InvalidParameter.PhoneNumberError`` (To not digits with country code);
  ``InvalidParameter.TemplateParams`` (a template variable without a non-empty value; both
  ``$(name)`` and ``{{name}}`` placeholders count); ``InvalidParameter.Ttl`` (30-1,209,600),
  ``.FallBackDuration`` (60-43,200), ``.FallBackRule`` (undelivered|sentFailed), ``.Label``
  (promotion|transaction). A request with any bad entry is refused whole.
  GetChatappTemplateDetail without TemplateCode is ``MissingTemplateCode``, "TemplateCode is
  required...". An unknown action is ``InvalidApi.NotFound`` (404). A mass send names its
  template before its SenderList is read: a probe with a code that cannot exist gets
  ``DetailError.TemplateNotExist`` (body read) or ``Missing...`` (body not read), and
  delivers nothing either way.
* Shapes: as the SDK 5.3.1 models declare them (tests/simulator/test_sdk_simulator_types.py holds
  every answer against them): ListChatappTemplate's LastUpdateTime in milliseconds, Category
  UTILITY/MARKETING; ListChatappMessage records carry EventAction (``DOWN`` sent, with
  TemplateCode; ``UP`` received, TemplateCode empty), FailBackFlag ``Y``/``N`` and no
  GroupMessageId (a filter only, matching sent messages); listings carry ``Success``.
* Delivery: ListChatappMessage shows a message ``record_delay_s`` after acceptance; its
  status moves Sent → Delivered (1-3 s) → Read (70 %, 5-60 s later), or → Failed with a
  Viber error (``SRVC_NOT_VIBER_USER``, ``SRVC_USER_BLOCKED``) for the ``fail_delivery`` share.
  Outcomes are a pure function of the seed, so runs with a seed repeat exactly.

Faults (``Faults``, or a SPEC string for ``Faults.parse`` and ``--faults``)
--------------------------------------------------------------------------
``throttle=P``        System.LimitControl (HTTP 400, ``x-acs-retry-after: 200``); not accepted.
``5xx=P``             HTTP 503 ServiceUnavailable; not accepted.
``5xx_after_accept=P`` accepted and recorded, then HTTP 500 InternalError: truly unknown.
``drop=P``            accepted and recorded, then the connection closes without an answer.
``slow=P,slow_ms=N``  accepted and recorded, answered after N ms (default 40,000).
``deny=1``            every mass send gets Ram.PermissionDeny (with AccessDeniedDetail).
``unsubscribed=1``    every operation gets Product.Unsubscript.
``fail_delivery=P``   share of accepted messages that later turn Failed. Off by default so
                      that a plain simulator is predictable; ``0.03`` looks like real traffic.
``inbound=P``         share of delivered recipients who write back (an UP record, same
                      number and Service ID, no template); replaces ``inbound_share``.
``ignore_body=1``     the gateway reads no form-encoded body (as ``SimulatorConfig.ignore_body``).
``burst=N``           throttle the next N mass sends.
``seed=N``            seed of the fault draws.
Faults other than ``unsubscribed`` and ``ignore_body`` apply to SendChatappMassMessage only, so the listings
and the test send keep working while sends misbehave. Statistics count a dropped answer
under ``"(dropped)"``.

Demo data (``demo_data``)
-------------------------
CustSpaceId ``cams-demo-shop``; Service IDs ``2000001`` "Demo Shop" (active) and ``2000002``
(inactive). Viber templates: ``order_shipped`` (en, ru; URL button; ``name``, ``order_id``),
``spring_sale`` (en, ru; IMAGE header, URL button; ``name``, ``discount``, ``end_date``), ``appointment_reminder`` (en;
``{{name}}``-style; ``name``, ``date``, ``time``), ``loyalty_points`` (auditing) and
``black_friday`` (fail, with a Reason). Codes are constants of ``demo_data``.
``DEMO_ACCESS_KEY_ID`` / ``DEMO_ACCESS_KEY_SECRET`` are public demo credentials.
"""

from cams_tui.simulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, SimulatorConfig
from cams_tui.simulator.core import Simulator
from cams_tui.simulator.faults import Faults
from cams_tui.simulator.service import AcceptedRequest

__all__ = [
    "DEMO_ACCESS_KEY_ID",
    "DEMO_ACCESS_KEY_SECRET",
    "AcceptedRequest",
    "Faults",
    "Simulator",
    "SimulatorConfig",
]
