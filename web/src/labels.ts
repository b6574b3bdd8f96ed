// Short labels of an alert for the list, the map and the detail panel. Pure.

/**
 * What the alert is, shortly: the category when it already names the type
 * ("sensor.gunshot" for a sensor alert), else "type · category"
 * ("geofence · schools-150m", "correlation · violent"), else the type.
 */
export function alertLabel(a: { type: string; category: string }): string {
  if (!a.category || a.category === a.type) return a.type;
  if (a.category.startsWith(`${a.type}.`)) return a.category;
  return `${a.type} · ${a.category}`;
}

/** The district, else the coordinates, else "no place". */
export function placeLabel(a: { district: string | null; lat: number | null; lon: number | null }): string {
  if (a.district) return a.district;
  if (a.lat !== null && a.lon !== null) return `${a.lat.toFixed(4)}, ${a.lon.toFixed(4)}`;
  return 'no place';
}

/**
 * The name of a district feature: its "name" property, else "community" (the
 * two defaults of city.district_name_property), else its first text property.
 */
export function districtName(props: Record<string, unknown> | null | undefined): string {
  if (!props) return '';
  for (const k of ['name', 'NAME', 'community', 'district']) {
    const v = props[k];
    if (typeof v === 'string' && v) return v;
  }
  for (const v of Object.values(props)) if (typeof v === 'string' && v) return v;
  return '';
}

/** A verdict as a short tag: "TP", "FP" or "" for none. */
export function verdictTag(v: string): string {
  return v === 'true_positive' ? 'TP' : v === 'false_positive' ? 'FP' : '';
}

/** Text made safe for Leaflet tooltips, which take HTML strings. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "key=value" pairs, numbers rounded to 4 places, nested objects inline. */
export function reasonsText(reasons: Record<string, unknown> | null | undefined): string {
  if (!reasons) return '';
  return Object.entries(reasons)
    .map(([k, v]) => {
      if (typeof v === 'number') return `${k}=${Number.isInteger(v) ? v : Number(v.toFixed(4))}`;
      if (typeof v === 'string') return `${k}=${v}`;
      return `${k}=${JSON.stringify(v)}`;
    })
    .join('  ');
}
