// The city map: Leaflet with no tile layer (the page works offline), the
// district polygons from GET /v1/map, sensitive sites as small squares,
// geofences as dashed outlines, and one circle marker per located alert in its
// priority colour. Static layers draw on a canvas; alert markers are SVG paths
// in their own pane above them (class "alert-marker", data-alert-id), so a
// click selects the alert and tests can find the marker.

import L from 'leaflet';
import 'leaflet/dist/leaflet.css';

import type { Entry } from '../alert_state.js';
import { alertLabel, districtName, escapeHtml, placeLabel } from '../labels.js';
import type { MapData } from '../types.js';
import { PRIORITY_COLOURS } from './dom.js';

const RADIUS: Record<string, number> = { P0: 10, P1: 8, P2: 7, P3: 6 };

export class AlertMap {
  private readonly map: L.Map;
  private readonly markers = new Map<string, { marker: L.CircleMarker; entry: Entry }>();
  private readonly alertRenderer: L.Renderer;
  private selected: string | null = null;
  private fitted = false;

  constructor(
    el: HTMLElement,
    private readonly onSelect: (id: string) => void,
  ) {
    this.map = L.map(el, {
      zoomControl: true,
      attributionControl: true,
      preferCanvas: true,
      zoomSnap: 0.25,
      minZoom: 3,
      maxZoom: 19,
      keyboard: false, // the arrow keys move the alert selection
    }).setView([0, 0], 3);
    this.map.attributionControl.setPrefix('Leaflet (BSD-2) · no tiles');
    const pane = this.map.createPane('alerts');
    pane.style.zIndex = '450';
    this.alertRenderer = L.svg({ pane: 'alerts' });
  }

  setMapData(data: MapData): void {
    const bounds = L.latLngBounds([]);
    if (data.districts) {
      const layer = L.geoJSON(data.districts, {
        style: () => ({ color: '#7b8794', weight: 1, fillColor: '#2a323d', fillOpacity: 0.35 }),
        onEachFeature: (feature, l) => {
          const name = districtName(feature.properties as Record<string, unknown>);
          if (name) l.bindTooltip(escapeHtml(name), { sticky: true, className: 'district-tip' });
        },
      }).addTo(this.map);
      bounds.extend(layer.getBounds());
    }
    for (const g of data.geofences ?? []) {
      for (const ring of g.polygons ?? []) {
        const poly = L.polygon(
          ring.map(([lon, lat]) => [lat, lon] as L.LatLngTuple),
          { color: '#ba68c8', weight: 1.5, dashArray: '4 4', fillOpacity: 0.08, interactive: true },
        ).addTo(this.map);
        poly.bindTooltip(escapeHtml(`geofence ${g.name}`));
      }
      for (const c of g.circles ?? []) {
        L.circle([c.lat, c.lon], {
          radius: c.radius_m,
          color: '#ba68c8',
          opacity: 0.55,
          weight: 1,
          dashArray: '3 3',
          fillOpacity: 0.04,
          interactive: false,
        }).addTo(this.map);
      }
    }
    for (const s of data.sites ?? []) {
      // A small square is a "site"; circles are alerts.
      const d = 0.00025;
      L.rectangle(
        [
          [s.lat - d, s.lon - d * 1.35],
          [s.lat + d, s.lon + d * 1.35],
        ],
        { color: '#cfd8dc', weight: 1, fillColor: '#90a4ae', fillOpacity: 0.9 },
      )
        .bindTooltip(escapeHtml(`${s.kind || 'site'}${s.name || s.id ? `: ${s.name || s.id}` : ''}`))
        .addTo(this.map);
    }
    if (!bounds.isValid() && data.bounds) {
      bounds.extend([
        [data.bounds[0], data.bounds[1]],
        [data.bounds[2], data.bounds[3]],
      ]);
    }
    if (bounds.isValid()) {
      this.map.fitBounds(bounds, { padding: [8, 8] });
      this.fitted = true;
    } else if (data.center) {
      this.map.setView([data.center.lat, data.center.lon], 11);
      this.fitted = true;
    }
  }

  /** Draws the markers of `entries` (the ones on the lists), dropping the others. */
  update(entries: readonly Entry[]): void {
    const keep = new Set<string>();
    for (const e of entries) {
      const a = e.alert;
      if (a.lat === null || a.lon === null) continue;
      keep.add(a.alert_id);
      const existing = this.markers.get(a.alert_id);
      if (existing && existing.entry === e) continue;
      if (existing) {
        existing.entry = e;
        existing.marker.setLatLng([a.lat, a.lon]);
        existing.marker.setStyle(this.style(e));
        existing.marker.setRadius(this.radius(e));
        existing.marker.setTooltipContent(this.tip(e));
        this.setMarkerClass(existing.marker, e);
        continue;
      }
      const m = L.circleMarker([a.lat, a.lon], {
        ...this.style(e),
        radius: this.radius(e),
        renderer: this.alertRenderer,
        pane: 'alerts',
        bubblingMouseEvents: false,
      });
      m.bindTooltip(this.tip(e));
      m.on('click', () => this.onSelect(a.alert_id));
      m.addTo(this.map);
      this.setMarkerClass(m, e);
      this.markers.set(a.alert_id, { marker: m, entry: e });
    }
    for (const [id, { marker }] of this.markers) {
      if (!keep.has(id)) {
        marker.remove();
        this.markers.delete(id);
      }
    }
    if (!this.fitted && keep.size > 0) {
      const b = L.latLngBounds([...this.markers.values()].map(({ marker }) => marker.getLatLng()));
      this.map.fitBounds(b.pad(0.2), { maxZoom: 14 });
      this.fitted = true;
    }
    if (this.selected) this.markers.get(this.selected)?.marker.bringToFront();
  }

  select(id: string | null, pan: boolean): void {
    const prev = this.selected ? this.markers.get(this.selected) : undefined;
    this.selected = id;
    if (prev) {
      prev.marker.setStyle(this.style(prev.entry));
      prev.marker.setRadius(this.radius(prev.entry));
    }
    const cur = id ? this.markers.get(id) : undefined;
    if (cur) {
      cur.marker.setStyle(this.style(cur.entry));
      cur.marker.setRadius(this.radius(cur.entry));
      cur.marker.bringToFront();
      if (pan && !this.map.getBounds().pad(-0.1).contains(cur.marker.getLatLng())) {
        this.map.panTo(cur.marker.getLatLng());
      }
    }
  }

  /** Leaflet recomputes its size when the window or the grid changes. */
  invalidateSize(): void {
    this.map.invalidateSize();
  }

  private radius(e: Entry): number {
    const r = RADIUS[e.alert.priority] ?? 6;
    return e.alert.alert_id === this.selected ? r + 4 : r;
  }

  private style(e: Entry): L.PathOptions {
    const a = e.alert;
    const colour = PRIORITY_COLOURS[a.priority] ?? '#9e9e9e';
    const selected = a.alert_id === this.selected;
    const trend = a.status === 'trend_watch';
    return {
      color: selected ? '#ffffff' : trend ? colour : '#101418',
      weight: selected ? 3 : trend ? 2 : 1.5,
      dashArray: trend ? '3 3' : undefined,
      fillColor: colour,
      fillOpacity: trend ? 0.15 : a.acked_at ? 0.45 : 0.95,
    };
  }

  private tip(e: Entry): string {
    const a = e.alert;
    return escapeHtml(`${a.priority} ${alertLabel(a)} · ${placeLabel(a)} · score ${a.score.toFixed(3)}`);
  }

  private setMarkerClass(m: L.CircleMarker, e: Entry): void {
    const el = m.getElement();
    if (!el) return;
    el.setAttribute('class', `leaflet-interactive alert-marker pri-${e.alert.priority}`);
    el.setAttribute('data-alert-id', e.alert.alert_id);
    el.setAttribute('data-priority', e.alert.priority);
  }
}
