/*
 * The wall's map opens with the town clear of the boxes floating over the map's left side: the
 * grid legend (top left) and the state legend (bottom left, app.pages.wall). Fitted with an
 * even padding the town's western edge lay under the state legend, incidents there hidden.
 *
 * The boxes are sized in rem (the root font grows with the screen) and their content depends on
 * the language, so their width is measured when the map is created (they are in the page's
 * first render, beside the map) instead of a padding in pixels fixed on the server. The town
 * keeps the zoom an even padding gives it and moves right, clear of the boxes where the map is
 * wide enough (1080p and 4K walls are), as far as it can on a narrower screen. Only
 * the first fit (react-leaflet's, to the map's ``bounds`` prop) is changed: a box zoom fits as
 * Leaflet does.
 */
(function () {
  "use strict";

  var MAP_ID = "wall-map"; /* app.components.wall_map.MAP_ID */
  /* The boxes over the map's left side (app.components.wall_grid, app.pages.wall). */
  var LEFT_BOXES = [".wall-grid-control", ".wall-legend"];
  var GAP = 8; /* pixels between the boxes and the town */

  /* How far (pixels from the map's left edge) the boxes over the map's left side reach; 0
   * when none is shown. */
  function leftReach(map) {
    var edge = map.getContainer().getBoundingClientRect();
    var reach = 0;
    LEFT_BOXES.forEach(function (selector) {
      var box = document.querySelector(selector);
      var r = box && box.getBoundingClientRect();
      if (r && r.width > 0 && r.height > 0 && r.left < edge.right) {
        reach = Math.max(reach, r.right - edge.left);
      }
    });
    return reach;
  }

  /* ``options`` (Leaflet's fitBounds options) with a left padding that clears the boxes, as
   * far as the map's width allows without fitting ``bounds`` a zoom lower: on a narrow screen
   * the town keeps its size and moves right as far as it can. */
  function clearOfBoxes(map, bounds, options) {
    var reach = leftReach(map);
    if (!reach) { return options; }
    var even = (options && options.padding) || [0, 0];
    var topLeft = L.point((options && options.paddingTopLeft) || even);
    var bottomRight = L.point((options && options.paddingBottomRight) || even);
    var zoom = map.getBoundsZoom(bounds, false, topLeft.add(bottomRight));
    var wide = map.project(bounds.getNorthEast(), zoom).x -
      map.project(bounds.getSouthWest(), zoom).x;
    /* the left padding that keeps ``zoom`` */
    var room = map.getSize().x - wide - bottomRight.x - 1;
    var left = Math.min(reach + GAP, Math.max(topLeft.x, room));
    if (left <= topLeft.x) { return options; }
    var out = L.extend({}, options, {
      paddingTopLeft: [left, topLeft.y],
      paddingBottomRight: [bottomRight.x, bottomRight.y],
    });
    delete out.padding;
    return out;
  }

  /* dash-leaflet sets the view to its ``center`` prop (the bounds' centre, which its viewport
   * tracking needs, app.components.wall_map) once as the map mounts, right after the fit: that
   * would undo the shift. That one call (the centre alone, no zoom) keeps the fitted view;
   * any other goes to Leaflet. */
  function keepFittedCentre(map, centre) {
    map.setView = function (center, zoom, options) {
      delete map.setView;
      if (zoom === undefined && center && L.latLng(center).equals(centre, 1e-9)) { return map; }
      return L.Map.prototype.setView.call(map, center, zoom, options);
    };
  }

  if (window.L && L.Map && L.Map.addInitHook) {
    L.Map.addInitHook(function () {
      var map = this;
      if (map.getContainer().id !== MAP_ID) { return; }
      map.fitBounds = function (bounds, options) {
        delete map.fitBounds; /* the first fit only: Leaflet's own from then on */
        var box = L.latLngBounds(bounds);
        var padded = clearOfBoxes(map, box, options);
        L.Map.prototype.fitBounds.call(map, bounds, padded);
        if (padded !== options) { keepFittedCentre(map, box.getCenter()); }
        return map;
      };
    });
  }
})();
