/*
 * The wall's first frame of incidents, drawn by Leaflet the moment the map has its view.
 *
 * The history layer (app.components.wall_map) is a dash-leaflet GeoJSON: a lazily loaded
 * component, rendered in a render pass after the page's first commit, whose URL a clientside
 * callback sets once the map has reported its zoom and bounds (wall.historyUrl); its request
 * is answered after that pass. On a cold page load at 100,000 incidents that put the clusters
 * ~0.14 s after the map. So the layout carries the clusters of the zooms a town opens at, for
 * the whole town (store wall-first: app.wall_history.first_frame; empty while the server has
 * not computed them yet), and a Leaflet init hook on the wall's map draws the zoom it opens at
 * with the same symbols (wall.historyToLayer) in a plain L.GeoJSON layer, in the same task that
 * creates the map. The dash-leaflet layer takes over when it draws its first feature, and this
 * layer is removed in that task, so nothing flickers; it is also removed as soon as the
 * layer's URL is another one than the first frame's (a filter, a pan). Until then a click on a
 * single incident selects nothing (a cluster's click zooms as always). Nothing is fetched here.
 */
(function () {
  "use strict";

  var MAP_ID = "wall-map"; /* app.components.wall_map.MAP_ID */
  var FIRST_ID = "wall-first"; /* FIRST_ID */
  var BASE_ID = "wall-history"; /* HISTORY_URL_ID */
  var LAYER_ID = "wall-incidents"; /* HISTORY_ID */
  var first = null; /* {layer, map} while the first frame is on the map */
  var done = false; /* drawn once: later maps (in-app navigation) do without */
  var shown = null; /* the history URL the first frame stands for */

  /* The props of the component ``id`` in the renderer's layout (dash-renderer keeps each
   * component's path in the layout in ``paths.strs``); null when not there. */
  function propsOf(id) {
    var state = window.store && window.store.getState && window.store.getState();
    var path = state && state.paths && state.paths.strs && state.paths.strs[id];
    if (!path) { return null; }
    var node = state.layout;
    for (var i = 0; i < path.length && node; i++) { node = node[path[i]]; }
    return (node && node.props) || null;
  }

  /* Remove the first frame: the dash-leaflet layer is drawing (wall.historyToLayer). */
  function drop() {
    if (first) {
      first.map.removeLayer(first.layer);
      first = null;
    }
  }

  /* The dash-leaflet layer's URL is now ``url`` (wall.historyUrl): another one than the first
   * frame's removes it, whatever the new one brings (maybe nothing). */
  function moved(url) {
    if (shown !== null && url !== shown) { drop(); }
  }

  function draw(map) {
    var wall = window.dash_clientside && window.dash_clientside.wall;
    var ext = window.dashExtensions && window.dashExtensions.wall;
    var frames = (propsOf(FIRST_ID) || {}).data;
    var base = (propsOf(BASE_ID) || {}).data;
    if (!wall || !ext || !frames || !base) { return; }
    var data = frames[String(wall.historyZoom(map.getZoom()))];
    if (!data) { return; }
    var b = map.getBounds();
    var url = wall.historyUrl(base, map.getZoom(), [[b.getSouth(), b.getWest()],
      [b.getNorth(), b.getEast()]], null);
    var context = { hideout: (propsOf(LAYER_ID) || {}).hideout || {} };
    shown = typeof url === "string" ? url : null;
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, latlng) { return ext.historyToLayer(f, latlng, context, true); },
    });
    first = { layer: layer.addTo(map), map: map };
  }

  if (window.L && L.Map && L.Map.addInitHook) {
    L.Map.addInitHook(function () {
      var map = this;
      if (done || map.getContainer().id !== MAP_ID) { return; }
      done = true;
      /* react-leaflet sets the view (fits the town) right after creating the map. */
      map.whenReady(function () { draw(map); });
    });
  }

  window.emberWallFirst = { drop: drop, moved: moved };
})();
