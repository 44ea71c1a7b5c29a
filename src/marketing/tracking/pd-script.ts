/**
 * `pd.js`, the tracking script a page loads after setting `piAId`, `piCId` and `piHostname`,
 * exactly as with Account Engagement's snippet. No third-party code: it reads its cookies,
 * asks `/analytics` to record the page view, and keeps the visitor in first-party cookies
 * (`visitor_id{piAId−1000}` and its signature), so tracking survives third-party cookie blocking.
 *
 * - `pi_opt_in{N}` (`true`/`false`) carries consent; `piTracker.optIn()` / `optOut()` set it.
 *   The engine decides: opted out, or no consent where the unit requires it, records nothing.
 * - `pi_campaign_id` in the page URL wins over `piCId`.
 * - `pi_email` in the page URL identifies the visitor without counting a page view.
 * - Iframes of the engine's hosted forms get the visitor in their URL, so a submission is
 *   tied to the visitor even where the browser keeps the engine's own cookie from it.
 * - `piTracker.identify(email)` ties the visitor to a prospect; `piTracker.page()` counts the
 *   page again (a single-page app that moved on).
 * - `piTracker.ready` settles once the page's call has been answered.
 */
export const PD_JS = String.raw`(function () {
  'use strict';
  var w = window, d = document;
  var account = parseInt(w.piAId, 10);
  if (!account || w.piTracker) return;
  var base = location.protocol + '//' + (w.piHostname || location.host);
  var n = account - 1000;
  var visitorCookie = 'visitor_id' + n, signCookie = visitorCookie + '-hash', consentCookie = 'pi_opt_in' + n;
  var TEN_YEARS = 3650 * 86400;

  function cookie(name) {
    var parts = d.cookie ? d.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return null;
  }
  function setCookie(name, value, maxAge) {
    d.cookie = name + '=' + encodeURIComponent(value) + '; path=/; max-age=' + maxAge + '; SameSite=Lax';
  }
  function pageParam(name) {
    return new URLSearchParams(location.search).get(name);
  }
  function decorateFrames(visitorId, sign) {
    var frames = d.getElementsByTagName('iframe');
    for (var i = 0; i < frames.length; i++) {
      try {
        var url = new URL(frames[i].src, location.href);
        if (url.origin !== base || url.searchParams.get('visitor_id')) continue;
        url.searchParams.set('visitor_id', visitorId);
        url.searchParams.set('visitor_id_sign', sign);
        frames[i].src = url.toString();
      } catch (e) {}
    }
  }
  function send(extra) {
    var q = new URLSearchParams();
    q.set('account_id', String(account));
    q.set('url', location.href);
    q.set('title', d.title || '');
    if (d.referrer) q.set('referrer', d.referrer);
    var campaign = pageParam('pi_campaign_id') || w.piCId;
    if (campaign) q.set('campaign_id', String(campaign));
    var visitor = cookie(visitorCookie), sign = cookie(signCookie), consent = cookie(consentCookie);
    if (visitor && sign) {
      q.set('visitor_id', visitor);
      q.set('visitor_id_sign', sign);
    }
    if (consent) q.set('pi_opt_in', consent);
    for (var key in extra) q.set(key, extra[key]);
    return fetch(base + '/analytics?' + q.toString(), { mode: 'cors', credentials: 'include' })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.tracked) {
          setCookie(visitorCookie, String(answer.visitorId), TEN_YEARS);
          setCookie(signCookie, answer.sign, TEN_YEARS);
          decorateFrames(answer.visitorId, answer.sign);
        }
        return answer;
      });
  }
  function track() {
    var email = pageParam('pi_email');
    return email ? send({ pi_email: email }) : send({});
  }
  w.piTracker = {
    optIn: function () {
      setCookie(consentCookie, 'true', TEN_YEARS);
      return (w.piTracker.ready = track());
    },
    optOut: function () {
      setCookie(consentCookie, 'false', TEN_YEARS);
      setCookie(visitorCookie, '', 0);
      setCookie(signCookie, '', 0);
    },
    identify: function (email) {
      return send({ pi_email: email });
    },
    page: function () {
      return send({});
    },
    ready: null
  };
  w.piTracker.ready = track();
})();
`;
