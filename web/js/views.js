/*
 * views.js — one analysis page: its title, the freshness line, and per aggregate a block
 * with the chart, a CSV download and the table of every row. open() builds the page;
 * refresh() revalidates every aggregate (If-None-Match) and the freshness, and touches
 * only the blocks whose data changed.
 */
'use strict';
var tpc = window.tpc = window.tpc || {};

tpc.views = (function () {
	var i18n = tpc.i18n, api = tpc.api, format = tpc.format, charts = tpc.charts;
	var cur = null;		/* {brand, analysis, catalog, blocks: [{spec, meta, chart, ...}]} */

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	function fillTable(b, body) {
		var t = el('table', 'data'), head = t.createTHead().insertRow(), tb = t.createTBody();
		var types = body.columns.map(function (c) { return c.type; });

		b.meta.columns.forEach(function (c) {
			var th = el('th', types[head.cells.length] === 'int64' ||
			    types[head.cells.length] === 'double' ? 'num' : '', format.heading(c));
			th.scope = 'col';
			head.appendChild(th);
		});
		body.rows.forEach(function (r) {
			var tr = tb.insertRow();
			r.forEach(function (v, i) {
				var td = tr.insertCell();
				td.textContent = format.cell(v, types[i]);
				/* a NULL is "unknown", not zero: say why on hover */
				if (v === null || v === undefined)
					td.title = i18n.t('no_value');
				if (types[i] === 'int64' || types[i] === 'double')
					td.className = 'num';
			});
		});
		b.tablewrap.textContent = '';
		b.tablewrap.appendChild(t);
		b.count.textContent = format.number(body.rows.length, 0) + ' ' + i18n.t('rows');
		b.when.textContent = i18n.t('data_time') + ' ' + format.time(body.refreshed_at);
	}

	function csv(b) {
		var url = api.path('brands', cur.brand, 'aggregates', b.spec.agg) + '?format=csv';
		return api.text(url, 'text/csv').then(function (text) {
			format.download(cur.brand + '_' + b.spec.agg + '.csv', text);
		}).catch(showError);
	}

	function block(spec, meta) {
		var b = { spec: spec, meta: meta, chart: null, body: null };
		var sec = el('section', 'block'), h = el('h2', null, i18n.title(meta));
		var bar = el('div', 'blockbar'), btn = el('button', 'csv', i18n.t('csv'));

		sec.id = 'agg-' + spec.agg;
		sec.setAttribute('data-agg', spec.agg);
		b.count = el('span', 'count');
		b.when = el('span', 'when');
		btn.type = 'button';
		btn.addEventListener('click', function () { csv(b); });
		bar.appendChild(b.when);
		bar.appendChild(b.count);
		bar.appendChild(btn);
		b.chartel = el('div', 'chart');
		b.tablewrap = el('div', 'tablewrap');
		b.tablewrap.tabIndex = 0;
		b.tablewrap.setAttribute('role', 'region');
		b.tablewrap.setAttribute('aria-label', i18n.title(meta) + ' \u2014 ' + i18n.t('table'));
		sec.appendChild(h);
		sec.appendChild(el('p', 'desc', meta.description));
		sec.appendChild(bar);
		sec.appendChild(b.chartel);
		sec.appendChild(b.tablewrap);
		b.section = sec;
		return b;
	}

	function draw(b, body) {
		b.body = body;
		if (b.chart)
			b.chart.update(body);
		else
			b.chart = charts.render(b.chartel, b.spec.chart, b.meta, body);
		fillTable(b, body);
	}

	function showError(e) {
		var m = document.getElementById('msg');
		if (e && e.status === 401)
			return;
		m.textContent = i18n.t('error') + ': ' + (e && e.message ? e.message : String(e));
		m.hidden = false;
	}

	function freshness(f, blocks) {
		var p = document.getElementById('fresh'), latest = null;

		blocks.forEach(function (b) {
			if (b.body && (!latest || b.body.refreshed_at > latest))
				latest = b.body.refreshed_at;
		});
		p.textContent = '';
		p.appendChild(el('span', 'item', i18n.t('data_time') + ': ' + format.time(latest)));
		p.appendChild(el('span', 'item gen', i18n.t('snapshot') + ' ' + i18n.t('generation') +
		    ' ' + f.generation + ' (' + format.time(f.created_at) + ')'));
		p.appendChild(el('span', 'item', i18n.t('checked') + ': ' + format.time(f.checked_at)));
		p.appendChild(el('span', 'item', i18n.t('refresh_every') + ' ' +
		    format.duration(f.refresh_interval)));
		p.setAttribute('data-generation', String(f.generation));
		p.classList.toggle('stale', !!f.stale);
		if (f.stale)
			p.appendChild(el('strong', 'warn', '\u26a0 ' + i18n.t('stale').replace('%s',
			    format.duration(f.age_s))));
	}

	function load(b) {
		var url = api.path('brands', cur.brand, 'aggregates', b.spec.agg);
		return api.get(url).then(function (r) {
			if (r.changed || !b.body)
				draw(b, r.data);
		});
	}

	/* Revalidates the open page; draws only what changed. */
	function refresh() {
		if (!cur)
			return Promise.resolve();
		var c = cur;
		return Promise.all(c.blocks.map(load).concat([api.get('/v1/freshness')]))
		    .then(function (res) {
			if (c === cur)
				freshness(res[res.length - 1].data, c.blocks);
		}).catch(showError);
	}

	/* Builds the page of analysis a for brand with that brand's catalogue. */
	function open(brand, a, catalog) {
		close();
		var byName = {};
		catalog.aggregates.forEach(function (m) { byName[m.name] = m; });
		cur = { brand: brand, analysis: a, catalog: catalog, blocks: [] };
		document.getElementById('ptitle').textContent = a[i18n.lang()];
		var host = document.getElementById('blocks');
		host.textContent = '';
		document.getElementById('fresh').textContent = '';
		a.blocks.forEach(function (spec) {
			var b = block(spec, byName[spec.agg] || { name: spec.agg, columns: [] });
			cur.blocks.push(b);
			host.appendChild(b.section);
		});
		var pg = document.getElementById('page');
		pg.setAttribute('data-brand', brand);
		pg.setAttribute('data-analysis', a.id);
		pg.hidden = false;
		return refresh();
	}

	function close() {
		if (cur)
			cur.blocks.forEach(function (b) {
				if (b.chart)
					b.chart.destroy();
			});
		cur = null;
		document.getElementById('page').hidden = true;
	}

	return { open: open, refresh: refresh, close: close, showError: showError,
	    current: function () { return cur; } };
})();
