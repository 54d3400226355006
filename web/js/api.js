/*
 * api.js — every request the page makes: same-origin, cookie session, JSON. GETs keep the
 * last body and ETag per URL and revalidate with If-None-Match, so a poll that finds
 * nothing new costs a 304 and changes nothing on screen. The browser's own HTTP cache is
 * bypassed (cache: 'no-store') so that a 304 reaches this code as a 304.
 */
'use strict';
var tpc = window.tpc = window.tpc || {};

tpc.api = (function () {
	var cache = {};		/* url -> {etag, data, generation} */
	var onUnauthorized = function () {};

	function ApiError(status, body) {
		this.status = status;
		this.code = body && body.error ? body.error.code : 'error';
		this.message = body && body.error ? body.error.message : 'HTTP ' + status;
	}

	function fail(res) {
		return res.json().catch(function () { return null; }).then(function (body) {
			if (res.status === 401)
				onUnauthorized();
			throw new ApiError(res.status, body);
		});
	}

	/*
	 * GET url: resolves {data, changed, generation}; changed is false when the server
	 * answered 304 (the kept body is returned again).
	 */
	function get(url) {
		var kept = cache[url], headers = { 'Accept': 'application/json' };

		if (kept)
			headers['If-None-Match'] = kept.etag;
		return fetch(url, { credentials: 'same-origin', cache: 'no-store',
		    headers: headers }).then(function (res) {
			var gen = res.headers.get('X-Tpcd-Generation');
			if (res.status === 304 && kept) {
				if (gen)
					kept.generation = Number(gen);
				return { data: kept.data, changed: false, generation: kept.generation };
			}
			if (!res.ok)
				return fail(res);
			return res.json().then(function (data) {
				var etag = res.headers.get('ETag');
				if (etag)
					cache[url] = { etag: etag, data: data, generation: Number(gen) };
				return { data: data, changed: true, generation: Number(gen) };
			});
		});
	}

	/* A GET whose body is text (the CSV download); no caching. */
	function text(url, accept) {
		return fetch(url, { credentials: 'same-origin', cache: 'no-store',
		    headers: { 'Accept': accept } }).then(function (res) {
			return res.ok ? res.text() : fail(res);
		});
	}

	/* POST a JSON body (state changes need Content-Type: application/json). */
	function post(url, body) {
		return fetch(url, { method: 'POST', credentials: 'same-origin', cache: 'no-store',
		    headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
		    body: JSON.stringify(body || {}) }).then(function (res) {
			return res.ok ? res.json() : fail(res);
		});
	}

	return {
		get: get,
		text: text,
		post: post,
		forget: function () { cache = {}; },
		onunauthorized: function (fn) { onUnauthorized = fn; },
		ApiError: ApiError,
		path: function () {
			return '/v1/' + Array.prototype.map.call(arguments,
			    encodeURIComponent).join('/');
		}
	};
})();
