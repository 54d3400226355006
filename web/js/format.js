/*
 * format.js — how values look: numbers per locale (grouping, at most two decimals), units
 * of the catalogue in the current language, times in the browser's zone, and the CSV
 * download (UTF-8 with a BOM, so that Excel reads the Korean right).
 */
'use strict';
var tpc = window.tpc = window.tpc || {};

tpc.format = (function () {
	var i18n = tpc.i18n;
	var nf = {};

	function numberFormat(digits) {
		var key = i18n.locale() + digits;
		if (!nf[key])
			nf[key] = new Intl.NumberFormat(i18n.locale(),
			    { maximumFractionDigits: digits });
		return nf[key];
	}

	/* One table cell as text: null is an en dash; int64 grouped; double ≤ 2 decimals. */
	function cell(v, type) {
		if (v === null || v === undefined)
			return '\u2013';
		if (type === 'int64')
			return numberFormat(0).format(v);
		if (type === 'double')
			return numberFormat(2).format(v);
		return String(v);
	}

	function unit(u) {
		if (u === 'KRW')
			return i18n.t('unit_KRW');
		if (u === 'days')
			return i18n.t('unit_days');
		if (u === '%')
			return i18n.t('unit_pct');
		return '';
	}

	/* A column's heading: its catalogue title and, when it has one, its unit. */
	function heading(col) {
		var u = unit(col.unit);
		return i18n.title(col) + (u ? ' (' + u + ')' : '');
	}

	function time(iso) {
		if (!iso)
			return '\u2013';
		return new Intl.DateTimeFormat(i18n.locale(), { dateStyle: 'medium',
		    timeStyle: 'short' }).format(new Date(iso));
	}

	function duration(s) {
		if (s >= 3600)
			return numberFormat(1).format(s / 3600) + ' ' + i18n.t('hours');
		if (s >= 60)
			return Math.round(s / 60) + ' ' + i18n.t('minutes');
		return s + ' ' + i18n.t('seconds');
	}

	/* Offers text as a file download: the BOM first, so Excel takes it as UTF-8. */
	function download(name, csv) {
		var blob = new Blob(['\ufeff', csv], { type: 'text/csv;charset=utf-8' });
		var a = document.createElement('a');
		a.href = URL.createObjectURL(blob);
		a.download = name;
		document.body.appendChild(a);
		a.click();
		document.body.removeChild(a);
		setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
	}

	return { cell: cell, unit: unit, heading: heading, time: time, duration: duration,
	    download: download, number: function (v, d) { return numberFormat(d).format(v); } };
})();
