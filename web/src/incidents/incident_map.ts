// The incidents on the city map: one circle per located incident, coloured by
// its type's family (violent red, property orange, other blue), hollow when
// closed, dashed when retracted. SVG paths in their own pane (class
// "incident-marker", data-incident-id) so a click opens the detail and tests
// can count them.

import L from 'leaflet';

import { escapeHtml } from '../labels.js';
import type { MapData } from '../types.js';
import { addCityLayer, createCityMap } from './city_map.js';
import { formatDate, typeText } from './format.js';
import { FAMILY_COLOURS, typeFamily, type IncidentSummary } from './types.js';

export class IncidentMap {
  private readonly map: L.Map;
  private readonly renderer: L.Renderer;
  private readonly markers = new Map<number, { marker: L.CircleMarker; item: IncidentSummary }>();
  private selected: number | null = null;
  private cityFitted = false;

  constructor(
    el: HTMLElement,
    private readonly onSelect: (id: number) => void,
  ) {
    this.map = createCityMap(el);
    const pane = this.map.createPane('incidents');
    pane.style.zIndex = '450';
    this.renderer = L.svg({ pane: 'incidents' });
  }

  setMapData(data: MapData): void {
    this.cityFitted = addCityLayer(this.map, data).isValid() || !!data.center;
  }

  /** Draws exactly `items` (those with coordinates), reusing the markers already there. */
  update(items: readonly IncidentSummary[]): void {
    const keep = new Set<number>();
    for (const it of items) {
      if (it.lat === null || it.lon === null || !Number.isFinite(it.lat) || !Number.isFinite(it.lon)) continue;
      keep.add(it.id);
      const existing = this.markers.get(it.id);
      if (existing) {
        if (existing.item !== it) {
          existing.item = it;
          existing.marker.setLatLng([it.lat, it.lon]);
          existing.marker.setStyle(this.style(it));
          existing.marker.setTooltipContent(tip(it));
          this.setClass(existing.marker, it);
        }
        continue;
      }
      const m = L.circleMarker([it.lat, it.lon], { ...this.style(it), radius: 7, renderer: this.renderer, pane: 'incidents', bubblingMouseEvents: false });
      m.bindTooltip(tip(it));
      m.on('click', () => this.onSelect(it.id));
      m.addTo(this.map);
      this.setClass(m, it);
      this.markers.set(it.id, { marker: m, item: it });
    }
    for (const [id, { marker }] of this.markers) {
      if (!keep.has(id)) {
        marker.remove();
        this.markers.delete(id);
      }
    }
    if (this.selected !== null) this.markers.get(this.selected)?.marker.bringToFront();
  }

  /** Fits the view to the markers (when there is no city outline to fit to, or on request). */
  fitToMarkers(force = false): void {
    if (this.markers.size === 0 || (this.cityFitted && !force)) return;
    const b = L.latLngBounds([...this.markers.values()].map(({ marker }) => marker.getLatLng()));
    this.map.fitBounds(b.pad(0.2), { maxZoom: 14 });
  }

  select(id: number | null): void {
    const prev = this.selected;
    this.selected = id;
    for (const k of [prev, id]) {
      const e = k === null ? undefined : this.markers.get(k);
      if (e) {
        e.marker.setStyle(this.style(e.item));
        e.marker.setRadius(e.item.id === id ? 11 : 7);
      }
    }
    if (id !== null) this.markers.get(id)?.marker.bringToFront();
  }

  invalidateSize(): void {
    this.map.invalidateSize();
  }

  private style(it: IncidentSummary): L.PathOptions {
    const colour = FAMILY_COLOURS[typeFamily(it.type)];
    const selected = it.id === this.selected;
    return {
      color: selected ? '#ffffff' : it.status === 'open' ? '#101418' : colour,
      weight: selected ? 3 : it.status === 'open' ? 1.5 : 2,
      dashArray: it.status === 'retracted' ? '3 3' : undefined,
      fillColor: colour,
      fillOpacity: it.status === 'open' ? 0.9 : 0.2,
    };
  }

  private setClass(m: L.CircleMarker, it: IncidentSummary): void {
    const el = m.getElement();
    if (!el) return;
    el.setAttribute('class', `leaflet-interactive incident-marker family-${typeFamily(it.type)} status-${it.status}`);
    el.setAttribute('data-incident-id', String(it.id));
    el.setAttribute('data-type', it.type);
  }
}

function tip(it: IncidentSummary): string {
  return escapeHtml(`#${it.id} ${typeText(it.type)} · ${formatDate(it.time)} · ${it.district || it.place || 'no district'} · ${it.status}`);
}
