/*
 * Dash's undo history, kept short: the wall and the console run for days.
 *
 * Dash's renderer records every change of a callback input made in the browser (each tick of a
 * dcc.Interval, each pan of a map that tracks its viewport) in its undo history
 * (`state.history.past`), for an undo button Ember does not show, and never drops an entry: on
 * the wall, ~20,000 entries a day (a 5 s and a 30 s interval), each copied into a new array at
 * the next change, so memory and the cost of a tick both grow for as long as the page is open.
 * No Dash option turns the recording off or bounds it, so this file keeps the last KEEP entries
 * (undo still works that far back) by trimming the array after each change; the renderer keeps
 * its store in `window.store` (dash-renderer's `AppProvider`). Nothing here touches the layout.
 */
(function () {
  "use strict";

  var KEEP = 20;
  var tries = 0;

  function trim(store) {
    var history = store.getState().history;
    var past = history && history.past;
    if (Array.isArray(past) && past.length > KEEP) {
      // in place: the renderer copies `past` into a new array at every record, so no other
      // state holds this one
      past.splice(0, past.length - KEEP);
    }
  }

  /* The renderer creates its store after the assets' scripts have run: wait for it. */
  function watch() {
    var store = window.store;
    if (!store || typeof store.subscribe !== "function" || typeof store.getState !== "function") {
      tries += 1;
      if (tries < 300) {
        window.setTimeout(watch, 200); // a minute at most
      }
      return;
    }
    store.subscribe(function () {
      trim(store);
    });
  }

  window.emberHistory = { KEEP: KEEP };
  watch();
})();
