/* The optional map of a need's position: a pin to drop, drag or take from the
   device's location on the forms ([data-map-picker]), and a small map of a
   point on the need pages ([data-map-view]).

   Progressive enhancement: the markup (templates/needs/_map.html) stays hidden
   until this file shows it. Without JavaScript, or without MAP_TILE_URL (then
   this file is not loaded), the forms keep their two coordinate inputs and the
   pages show the point as text. Leaflet (static/vendor/leaflet) is loaded only
   when a page has a map. Everything comes from data- attributes: no inline
   script or style, and images come only from the portal and the tile host the
   CSP names. The position is asked of the browser only when "Use my location"
   is tapped. */
(function () {
  "use strict";

  var DONE = "mapReady";
  var PIN_ZOOM = 17; // how close a map with a pin opens
  var APPROXIMATE_METRES = 100; // the radius drawn around a public (rounded) point
  var leaflet = null;

  function loaded(element) {
    return new Promise(function (resolve, reject) {
      element.addEventListener("load", resolve);
      element.addEventListener("error", reject);
      document.head.appendChild(element);
    });
  }

  /* Leaflet's script and stylesheet, once per page, both loaded before a map is drawn. */
  function loadLeaflet(el) {
    if (!leaflet) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = el.dataset.leafletCss;
      var js = document.createElement("script");
      js.src = el.dataset.leafletJs;
      leaflet = Promise.all([loaded(css), loaded(js)]).then(function () {
        return window.L;
      });
      leaflet.catch(function () {
        leaflet = null;
      });
    }
    return leaflet;
  }

  function number(text) {
    if (text === null || text === undefined || String(text).trim() === "") return null;
    var value = Number(text);
    return isFinite(value) ? value : null;
  }

  function point(lat, lon) {
    lat = number(lat);
    lon = number(lon);
    if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return [lat, lon];
  }

  function baseMap(L, el, canvas, options) {
    var map = L.map(canvas, options);
    // The attribution is the operator's text, shown as text (Leaflet would read HTML);
    // the prefix names Leaflet without a link out of the portal.
    var attribution = document.createElement("span");
    attribution.textContent = el.dataset.attribution || "";
    map.attributionControl.setPrefix("Leaflet");
    L.tileLayer(el.dataset.tileUrl, {
      maxZoom: parseInt(el.dataset.maxZoom, 10) || 18,
      attribution: attribution.innerHTML,
    }).addTo(map);
    // A map inside a closed <details> has no size until it opens.
    var details = el.closest("details");
    if (details) {
      details.addEventListener("toggle", function () {
        if (details.open) map.invalidateSize();
      });
    }
    return map;
  }

  function startView(el) {
    return {
      center: point.apply(null, (el.dataset.center || "0,0").split(",")) || [0, 0],
      zoom: parseInt(el.dataset.zoom, 10) || 12,
    };
  }

  /* --- a pin on a form ---------------------------------------------------- */

  function initPicker(el) {
    var latInput = document.getElementById(el.dataset.latInput);
    var lonInput = document.getElementById(el.dataset.lonInput);
    if (!latInput || !lonInput) return;
    var status = el.querySelector("[data-map-status]");
    var locate = el.querySelector("[data-map-locate]");
    var clear = el.querySelector("[data-map-clear]");
    el.hidden = false;

    function say(text) {
      if (status) status.textContent = text || "";
    }

    loadLeaflet(el).then(function (L) {
      var canvas = el.querySelector("[data-map-canvas]");
      var map = baseMap(L, el, canvas, {});
      var marker = null;

      function typed() {
        return point(latInput.value, lonInput.value);
      }

      function show(latlng) {
        if (!marker) {
          marker = L.marker(latlng, {
            draggable: true,
            autoPan: true,
            title: el.dataset.pinLabel,
            alt: el.dataset.pinLabel,
          }).addTo(map);
          marker.on("dragend", function () {
            write(marker.getLatLng());
          });
        } else {
          marker.setLatLng(latlng);
        }
        if (clear) clear.hidden = false;
      }

      /* The inputs hold the pin; one change event tells the form (and the
         nearby hint) that the position moved. */
      function write(latlng) {
        latlng = L.latLng(latlng).wrap();
        latInput.value = latlng.lat.toFixed(6);
        lonInput.value = latlng.lng.toFixed(6);
        lonInput.dispatchEvent(new Event("change", { bubbles: true }));
      }

      var start = typed();
      var view = startView(el);
      if (start) {
        map.setView(start, Math.max(view.zoom, PIN_ZOOM));
        show(start);
      } else {
        map.setView(view.center, view.zoom);
        if (clear) clear.hidden = true;
      }

      map.on("click", function (event) {
        show(event.latlng);
        write(event.latlng);
        say(el.dataset.placed);
      });

      // Coordinates typed by hand move the pin too.
      [latInput, lonInput].forEach(function (input) {
        input.addEventListener("input", function () {
          var where = typed();
          if (where) {
            show(where);
            map.panTo(where);
          }
        });
      });

      if (locate) {
        if (!("geolocation" in navigator)) {
          locate.hidden = true;
        }
        locate.addEventListener("click", function () {
          say(el.dataset.locating);
          locate.disabled = true;
          navigator.geolocation.getCurrentPosition(
            function (position) {
              var here = [position.coords.latitude, position.coords.longitude];
              locate.disabled = false;
              map.setView(here, Math.max(map.getZoom(), PIN_ZOOM));
              show(here);
              write(here);
              say(el.dataset.located);
            },
            function () {
              locate.disabled = false;
              say(el.dataset.locateFailed);
            },
            { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
          );
        });
      }

      if (clear) {
        clear.addEventListener("click", function () {
          if (marker) {
            map.removeLayer(marker);
            marker = null;
          }
          latInput.value = "";
          lonInput.value = "";
          lonInput.dispatchEvent(new Event("change", { bubbles: true }));
          clear.hidden = true;
          say(el.dataset.cleared);
        });
      }
    }, function () {
      el.hidden = true; // Leaflet did not load: the coordinate inputs remain
    });
  }

  /* --- a point on a page ------------------------------------------------- */

  function initView(el) {
    var where = point.apply(null, (el.dataset.point || "").split(","));
    if (!where) return;
    el.hidden = false;
    loadLeaflet(el).then(function (L) {
      // Small and still: a phone scrolls the page, not the map.
      var map = baseMap(L, el, el, {
        dragging: false,
        touchZoom: false,
        scrollWheelZoom: false,
        doubleClickZoom: false,
        boxZoom: false,
        keyboard: false,
      });
      map.setView(where, Math.min(PIN_ZOOM - 1, parseInt(el.dataset.maxZoom, 10) || 18));
      if (el.dataset.approximate) {
        L.circle(where, { radius: APPROXIMATE_METRES, interactive: false }).addTo(map);
      } else {
        L.marker(where, { title: el.dataset.pinLabel, alt: el.dataset.pinLabel, keyboard: false }).addTo(map);
      }
    }, function () {
      el.hidden = true;
    });
  }

  function init(root) {
    if (!root || !root.querySelectorAll) return;
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-map-picker], [data-map-view]"));
    if (root.matches && root.matches("[data-map-picker], [data-map-view]")) found.push(root);
    found.forEach(function (el) {
      if (el.dataset[DONE]) return;
      el.dataset[DONE] = "1";
      if (el.hasAttribute("data-map-picker")) initPicker(el);
      else initView(el);
    });
  }

  // Pages, and the parts htmx swaps in (a form shown again with its errors).
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  document.addEventListener("htmx:load", function (event) {
    init(event.detail.elt);
  });
})();
