// The city base map of the intel pages, drawn like the command centre's: no
// tile layer (works offline), the district polygons of GET /v1/map on a
// canvas, fitted to them (else to city.bounds or the centre).

import L from 'leaflet';
import 'leaflet/dist/leaflet.css';

import { districtName, escapeHtml } from '../labels.js';
import type { MapData } from '../types.js';

export function createCityMap(el: HTMLElement, options: { zoomControl?: boolean } = {}): L.Map {
  const map = L.map(el, {
    zoomControl: options.zoomControl ?? true,
    attributionControl: true,
    preferCanvas: true,
    zoomSnap: 0.25,
    minZoom: 3,
    maxZoom: 19,
    keyboard: false, // the page's keys (j/k, the timeline) are not map moves
  }).setView([0, 0], 3);
  map.attributionControl.setPrefix('Leaflet (BSD-2) · no tiles');
  return map;
}

/** Draws the districts; returns the area to fit (invalid when the map data has none). */
export function addCityLayer(map: L.Map, data: MapData): L.LatLngBounds {
  const bounds = L.latLngBounds([]);
  if (data.districts) {
    const layer = L.geoJSON(data.districts, {
      style: () => ({ color: '#7b8794', weight: 1, fillColor: '#2a323d', fillOpacity: 0.35 }),
      onEachFeature: (feature, l) => {
        const name = districtName(feature.properties as Record<string, unknown>);
        if (name) l.bindTooltip(escapeHtml(name), { sticky: true, className: 'district-tip' });
      },
    }).addTo(map);
    bounds.extend(layer.getBounds());
  }
  if (!bounds.isValid() && data.bounds) {
    bounds.extend([
      [data.bounds[0], data.bounds[1]],
      [data.bounds[2], data.bounds[3]],
    ]);
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
  else if (data.center) map.setView([data.center.lat, data.center.lon], 11);
  return bounds;
}

/** The district names of the map data, sorted (for the district filter). */
export function districtNames(data: MapData): string[] {
  const names = new Set<string>();
  for (const f of data.districts?.features ?? []) {
    const n = districtName(f.properties as Record<string, unknown>);
    if (n) names.add(n.toUpperCase());
  }
  return [...names].sort();
}
