// OASIS CAP 1.2 export of stored alerts (GET /v1/alerts/export?format=cap).
//
// CAP is one alert message per document, so several alerts travel the way
// the OASIS "Example Practices: CAP Feeds 1.0" note and public aggregators
// (e.g. Google Public Alerts: Atom, RSS or EDXL-DE feeds) take them: an Atom
// feed (RFC 4287, media type application/atom+xml) with one <entry> per
// alert. Each entry carries the complete CAP message inline as
// <content type="application/cap+xml"><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">,
// which RFC 4287 section 4.1.3.3 allows for an XML media type, so the feed is
// self-contained; with `base_url` set each entry also links to the alert's
// JSON (rel="alternate"). render_cap_alert() gives one bare CAP document for
// a single alert (media type application/xml).
//
// Message per alert (element order of the CAP 1.2 schema):
//   identifier  alert_id at revision 0; "<alert_id>-r<revision>" for later
//               revisions, "+ -cancel" for a cancel, so each message id is
//               unique for the sender as CAP requires
//   sender      options.sender;  sent: updated_at (verdict_at for a cancel)
//   status      options.status (Actual);  scope: options.scope (+ restriction)
//   msgType     Alert (revision 0), Update (revision > 0), Cancel (verdict
//               false_positive); Update and Cancel carry <references> to the
//               first message: "sender,alert_id,sent(received_at)"
//   info        language, category, event (the alert category, else its
//               type), urgency, severity, certainty, eventCode (sentinel:type),
//               onset (event_time), senderName, headline, description (score,
//               every term, sources, events), web (base_url), parameters
//               (sentinel:priority, :score, :confidence, :verified,
//               :term:<name> for each term, :sources, :event_count,
//               :revision, :bias_review, :acknowledged_at, :verdict), area
//               (areaDesc = district, circle "lat,lon radius_km")
// Times are CAP dateTime: "2026-03-01T22:14:05-00:00" (whole seconds, UTC
// written -00:00; the schema forbids "Z" and fractions).
//
// Mapping (urgency / severity from the band, certainty from the evidence):
//   | priority       | urgency   | severity |
//   | P0             | Immediate | Extreme  |
//   | P1             | Immediate | Severe   |
//   | P2             | Expected  | Moderate |
//   | P3             | Future    | Minor    |
//   | trend_watch    | Future    | Minor    |  (any band)
//   | certainty: verdict true_positive -> Observed; false_positive -> Unlikely;
//   |   trend_watch -> Possible; verified and confidence >= 0.9 -> Observed;
//   |   verified or confidence > 0.5 -> Likely; otherwise Possible.
//   | category (first keyword found in the alert category): fire -> Fire;
//   |   medical, ems, health, overdose -> Health; traffic, crash, transport ->
//   |   Transport; network, cyber, power, outage -> Infra; flood, storm,
//   |   weather -> Met; crowd, hazard, collapse -> Safety; otherwise Security.
//
// Text is made XML-safe: characters XML 1.0 cannot hold (controls other than
// tab/newline/CR, U+FFFE/U+FFFF, invalid UTF-8) become U+FFFD; pugixml
// escapes the markup characters. Pure functions; any thread.
#pragma once

#include <span>
#include <string>

#include "alerts/alert_store.h"
#include "core/result.h"

namespace sentinel {

struct CapOptions {
  /// <sender>: no spaces, commas, '<' or '&' (CAP 1.2).
  std::string sender = "sentinel@localhost";
  /// <senderName> and the Atom feed's author.
  std::string sender_name = "Sentinel";
  /// Actual | Exercise | System | Test | Draft.
  std::string status = "Actual";
  /// Public | Restricted (then `restriction` must say who may see it).
  std::string scope = "Public";
  std::string restriction;
  /// RFC 3066 language of the <info> text.
  std::string language = "en-US";
  /// Radius of the <circle> around a located alert (the fine cell is ~0.5 km).
  double radius_km = 0.5;
  /// The server's public base URL ("http://127.0.0.1:8080"): entry links,
  /// <web> and the feed's self link. "" = no links.
  std::string base_url;
  /// Atom feed id (an IRI); entry ids are "<feed_id>:<identifier>".
  std::string feed_id = "urn:sentinel:cap";
  std::string feed_title = "Sentinel alerts (CAP 1.2)";
  /// The feed's <updated>; 0 = the latest `sent` among the alerts (the Unix
  /// epoch for an empty feed), so the output is a function of the alerts.
  WallMs now = 0;
};

/// Start-up check: sender non-empty without spaces, commas, '<' or '&';
/// status and scope from the CAP lists (Private is not supported: it needs
/// addresses); Restricted needs a restriction; radius_km finite and >= 0;
/// feed_id non-empty. The error names the field ("sender", ...).
Status validate_cap_options(const CapOptions& options);

/// An Atom feed with one CAP 1.2 alert per element of `alerts`, in order.
/// `options` is assumed to have passed validate_cap_options().
std::string render_cap(std::span<const StoredAlert> alerts, const CapOptions& options);

/// One CAP 1.2 <alert> document.
std::string render_cap_alert(const StoredAlert& alert, const CapOptions& options);

/// CAP dateTime of a wall-clock instant: "2026-03-01T22:14:05-00:00".
std::string format_cap_time(WallMs t);

}  // namespace sentinel
