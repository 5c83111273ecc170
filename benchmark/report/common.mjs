// What every chart shares: the subtitle that names the machine and the run, the colours that
// keep TinyKV the same hue in every chart, and the page-wide vega-lite config.

/**
 * Above this share of all cores busy in the second before the start, a run is marked as taken
 * under load. The share is the better signal (the 1-minute load average still holds the bench
 * before); runs recorded without it fall back to a 1-minute load average above half the cores.
 */
export const BUSY_SHARE = 0.25

/** Whether the machine was busy with other work when the run started or while it ran. */
export function underLoad(run) {
  if (run.othersBusyDuring != null && run.othersBusyDuring > BUSY_SHARE) return true
  if (run.cpuBusyStart != null) return run.cpuBusyStart > BUSY_SHARE
  return run.loadavgStart[0] > 0.5 * run.machine.cores
}

const short = (commit) => (commit ? commit.slice(0, 7) : 'unknown')

/**
 * Splits a line at spaces into lines of at most `max` characters: without a browser, vega sizes
 * text by an estimate wider than the real glyphs, so one long line would widen the whole chart.
 */
export function wrap(line, max = 100) {
  const out = ['']
  for (const word of line.split(' ')) {
    const last = out.length - 1
    if (out[last] && out[last].length + 1 + word.length > max) out.push(`  ${word}`)
    else out[last] = out[last] ? `${out[last]} ${word}` : word
  }
  return out
}

/** The subtitle lines: the machine, then the run (date, commit, load), then the command. */
export function subtitle(run, extra) {
  const m = run.machine
  const date = run.date.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC')
  const busy = run.cpuBusyStart != null ? `, CPUs ${Math.round(run.cpuBusyStart * 100)}% busy` : ''
  const during = run.othersBusyDuring != null ? `; during the run other processes used ${Math.round(run.othersBusyDuring * 100)}% of the CPUs` : ''
  const load = `at start: load average ${run.loadavgStart[0].toFixed(2)}${busy}${during}${underLoad(run) ? ' (UNDER LOAD: other work was running)' : ''}`
  return [
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, node ${m.node.replace(/^v/, '')}`,
    `run ${date}, commit ${short(run.commit)}${run.dirty ? ' (+ uncommitted changes)' : ''}`,
    ...wrap(load),
    ...wrap(`$ ${run.command}`),
    ...(extra ? wrap(extra) : []),
  ]
}

/** A chart title: what it shows and which way is better, then the subtitle lines. */
export function title(text, run, extra) {
  return { text, subtitle: subtitle(run, extra), anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555', offset: 12 }
}

/** TinyKV's series in oranges (a second one, such as another policy, in amber), the rest in greys and blues. */
export function colors(domain) {
  const ours = ['#e8590c', '#f59f00']
  const others = ['#495057', '#74c0fc', '#adb5bd', '#1c7ed6']
  let i = 0
  let j = 0
  return { domain, range: domain.map((d) => (/^tinykv|^TinyKV/.test(d) ? ours[j++ % ours.length] : others[i++ % others.length])) }
}

/** A bold heading over one panel of a vconcat/hconcat chart. */
export const panelTitle = (text) => ({ text, anchor: 'start', fontSize: 12, fontWeight: 'bold', subtitle: '' })

export const config = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, gridColor: '#eee' },
  legend: { orient: 'top', labelFontSize: 11, titleFontSize: 11, labelLimit: 0 },
  header: { labelFontSize: 12, titleFontSize: 12 },
}

/**
 * A bar chart layered with its values as labels, grouped by `group` within each `cat` (no data:
 * the caller puts it on the top-level spec, so a facet can wrap this one).
 */
export function groupedBars({ cat, group, value, domain, horizontal = true, format = ',.0f', axisFormat, axisTitle, catTitle = null, width = 460, step = 14, sort = null }) {
  const valueEnc = { field: value, type: 'quantitative', title: axisTitle, axis: axisFormat ? { format: axisFormat } : {} }
  const catEnc = { field: cat, type: 'nominal', title: catTitle, sort, axis: { labelLimit: 0 } }
  // No offset when each category is its own group (one bar per row).
  const offset = group === cat ? undefined : { field: group, type: 'nominal', sort: domain }
  const color = { field: group, type: 'nominal', scale: colors(domain), title: null, sort: domain }
  const enc = horizontal
    ? { y: catEnc, ...(offset && { yOffset: offset }), x: valueEnc, color }
    : { x: { ...catEnc, axis: { labelAngle: 0 } }, ...(offset && { xOffset: offset }), y: valueEnc, color }
  const size = horizontal ? { width, height: { step } } : { width: { step }, height: 220 }
  return {
    ...size,
    encoding: enc,
    layer: [
      { mark: { type: 'bar' } },
      {
        mark: horizontal ? { type: 'text', align: 'left', dx: 3, fontSize: 10 } : { type: 'text', baseline: 'bottom', dy: -2, fontSize: 9 },
        encoding: { text: { field: value, type: 'quantitative', format }, color: { value: '#333' } },
      },
    ],
  }
}
