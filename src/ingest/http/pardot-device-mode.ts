import type { Source } from '../domain/source.js';

/** The version analytics.js asks for in the integration's path; any version gets this script. */
export const PARDOT_INTEGRATION_VERSION = '1.0.0';

/**
 * The `Pardot` entry of a source's analytics.js settings: device mode (`type: browser`,
 * bundled), so the SDK loads the integration below from the ingest and marks the events it
 * sends with `_metadata.bundled: ["Pardot", …]` — the ingest then leaves those page views to
 * the browser's tracking script instead of counting them twice.
 */
export function pardotSettings(source: Source, trackerHost: string) {
  return {
    piAId: source.settings.accountId!,
    piCId: source.settings.campaignId ? String(source.settings.campaignId) : '',
    piHostname: source.settings.trackerHost ?? trackerHost,
    type: 'browser',
    bundlingStatus: 'bundled',
    versionSettings: { version: PARDOT_INTEGRATION_VERSION, componentTypes: ['browser'] },
  };
}

/**
 * The device-mode integration analytics.js loads from
 * `{cdn}/next-integrations/integrations/pardot/{version}/pardot.dynamic.js.gz`: the shape of a
 * classic analytics.js integration (`window.pardotDeps`, `window.pardotLoader`,
 * `window.pardotIntegration`; a constructor taking the settings, with `initialize`, `invoke`
 * and `initialize`/`ready` events). It does what Segment's Pardot integration does:
 *
 * - `initialize` sets `piAId`, `piCId` and `piHostname` and loads the engine's `pd.js`, which
 *   counts the first page view and keeps the visitor in first-party cookies;
 * - `ready` once pd.js has been answered, so identify calls (held back until then) name the
 *   visitor pd.js made;
 * - `identify` with an email ties the visitor to the prospect (`piTracker.identify`): the
 *   visitor's page views and visits become the prospect's and score there;
 * - `page` after the first (single-page apps) counts another page view.
 */
export const PARDOT_INTEGRATION_JS = String.raw`(function () {
  'use strict';
  var w = window, d = document;
  function Pardot(settings) {
    this.options = settings || {};
    this.listeners = {};
    this.pages = 0;
  }
  Pardot.prototype.name = 'Pardot';
  Pardot.prototype._assumesPageview = true;
  Pardot.prototype.on = function (event, fn) {
    (this.listeners[event] = this.listeners[event] || []).push({ fn: fn, once: false });
    return this;
  };
  Pardot.prototype.once = function (event, fn) {
    (this.listeners[event] = this.listeners[event] || []).push({ fn: fn, once: true });
    return this;
  };
  Pardot.prototype.emit = function (event) {
    var list = this.listeners[event] || [];
    this.listeners[event] = list.filter(function (l) { return !l.once; });
    for (var i = 0; i < list.length; i++) list[i].fn();
  };
  Pardot.prototype.initialize = function () {
    if (this.initialized) return;
    this.initialized = true;
    var self = this, o = this.options;
    w.piAId = String(o.piAId);
    if (o.piCId) w.piCId = String(o.piCId);
    if (o.piHostname) w.piHostname = o.piHostname;
    var script = d.createElement('script');
    script.async = true;
    script.src = location.protocol + '//' + (o.piHostname || location.host) + '/pd.js';
    script.onload = function () {
      var ready = w.piTracker && w.piTracker.ready;
      Promise.resolve(ready).then(
        function () { self.emit('ready'); },
        function () { self.emit('ready'); }
      );
    };
    var first = d.getElementsByTagName('script')[0];
    first.parentNode.insertBefore(script, first);
    this.emit('initialize');
  };
  Pardot.prototype.loaded = function () {
    return !!w.piTracker;
  };
  Pardot.prototype.invoke = function (method, facade) {
    return typeof this[method] === 'function' ? this[method](facade) : undefined;
  };
  Pardot.prototype.page = function () {
    // pd.js counts the page it loads on; later page calls are a single-page app moving on.
    this.pages += 1;
    if (this.pages > 1 && w.piTracker) return w.piTracker.page();
  };
  Pardot.prototype.identify = function (identify) {
    var email = typeof identify.email === 'function' ? identify.email() : undefined;
    if (email && w.piTracker) return w.piTracker.identify(email);
  };
  w.pardotDeps = [];
  w.pardotLoader = function () {
    w.pardotIntegration = Pardot;
  };
})();
`;
