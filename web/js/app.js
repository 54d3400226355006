/*
 * app.js — the shell: login and logout, who is logged in, the brand picker (only the
 * brands the user may read), the analysis menu, the route in the URL fragment
 * (#/brand/analysis), the language switch and the polling timer. It never decides what
 * a user may read: the API does; the picker only shows what the API allows.
 */
'use strict';
var tpc = window.tpc = window.tpc || {};

(function () {
	var i18n = tpc.i18n, api = tpc.api, views = tpc.views;
	var HINT = 'tpcd.user';	/* who was logged in: spares a 401 on the login screen */
	var state = { me: null, brands: [], catalogs: {}, poll: null, pollMs: 30000 };

	function $(id) { return document.getElementById(id); }

	function hint(v) {
		try {
			if (v === undefined)
				return window.localStorage.getItem(HINT);
			if (v === null)
				window.localStorage.removeItem(HINT);
			else
				window.localStorage.setItem(HINT, v);
		} catch (e) { /* no storage: always ask the server */ return 'unknown'; }
		return null;
	}

	function message(text) {
		$('msg').textContent = text || '';
		$('msg').hidden = !text;
	}

	function stopPolling() {
		if (state.poll)
			clearInterval(state.poll);
		state.poll = null;
	}

	function showLogin(text) {
		stopPolling();
		views.close();
		state.me = null;
		state.catalogs = {};
		api.forget();
		$('top').hidden = true;
		$('nav').hidden = true;
		$('login').hidden = false;
		$('loginerr').textContent = text || '';
		message('');
		$('user').focus();
	}

	function langButtons() {
		var other = i18n.lang() === 'ko' ? 'English' : '한국어';
		[$('lang'), $('lang2')].forEach(function (b) {
			b.textContent = other;
			b.lang = i18n.lang() === 'ko' ? 'en' : 'ko';
		});
	}

	function route() {
		var m = /^#\/([a-z0-9_]+)\/([a-z]+)$/.exec(window.location.hash);
		var brand = m ? m[1] : null, id = m ? m[2] : null;
		var a = tpc.analyses.filter(function (x) { return x.id === id; })[0];
		if (!brand || !a) {
			window.location.replace('#/' + state.brands[0].id + '/' + tpc.analyses[0].id);
			return;
		}
		return { brand: brand, analysis: a };
	}

	function navigate() {
		var r, allowed;

		if (!state.me || state.brands.length === 0)
			return;
		if (!(r = route()))
			return;		/* replaced; hashchange comes back */
		message('');
		allowed = state.brands.some(function (b) { return b.id === r.brand; });
		drawNav(r);
		if (!allowed) {
			views.close();
			message(i18n.t('no_brand'));
			return;
		}
		$('brand').value = r.brand;
		catalog(r.brand).then(function (cat) {
			return views.open(r.brand, r.analysis, cat);
		}).catch(views.showError);
	}

	function catalog(brand) {
		if (state.catalogs[brand])
			return Promise.resolve(state.catalogs[brand]);
		return api.get(api.path('brands', brand, 'aggregates')).then(function (r) {
			state.catalogs[brand] = r.data;
			return r.data;
		});
	}

	function drawNav(r) {
		var ul = $('navlist');
		ul.textContent = '';
		tpc.analyses.forEach(function (a) {
			var li = document.createElement('li'), link = document.createElement('a');
			link.href = '#/' + r.brand + '/' + a.id;
			link.textContent = a[i18n.lang()];
			link.setAttribute('data-analysis', a.id);
			if (a.id === r.analysis.id)
				link.setAttribute('aria-current', 'page');
			li.appendChild(link);
			ul.appendChild(li);
		});
	}

	function startPolling() {
		stopPolling();
		/* a hidden tab does not poll; it catches up when shown again */
		state.poll = setInterval(function () {
			if (!document.hidden)
				views.refresh();
		}, state.pollMs);
	}

	/* Logged in: who, which brands, how often to poll; then the page of the URL. */
	function enter() {
		return Promise.all([api.get('/v1/me'), api.get('/v1/brands'),
		    api.get('/v1/freshness')]).then(function (res) {
			var me = res[0].data, sel = $('brand');
			state.me = me;
			state.brands = res[1].data.brands;
			/* within one refresh interval, never more often than every 2 s */
			state.pollMs = 1000 * Math.max(2, Math.min(30,
			    Math.floor(res[2].data.refresh_interval / 30)));
			hint(me.user);
			$('who').textContent = me.user + (me.role === 'admin' ? ' (' + i18n.t('admin') +
			    ')' : '');
			sel.textContent = '';
			state.brands.forEach(function (b) {
				var o = document.createElement('option');
				o.value = b.id;
				o.textContent = b.name;
				sel.appendChild(o);
			});
			$('login').hidden = true;
			$('top').hidden = false;
			$('nav').hidden = false;
			if (state.brands.length === 0) {
				message(i18n.t('no_brands'));
				return;
			}
			startPolling();
			navigate();
		});
	}

	function login(ev) {
		ev.preventDefault();
		$('loginerr').textContent = '';
		api.post('/v1/login', { user: $('user').value, password: $('password').value })
		    .then(function () {
			$('password').value = '';
			return enter();
		}).catch(function (e) {
			$('loginerr').textContent = e.status === 401 ? i18n.t('login_failed') :
			    e.status === 429 ? i18n.t('throttled') : i18n.t('error') + ': ' + e.message;
		});
	}

	function logout() {
		api.post('/v1/logout', {}).catch(function () { /* gone already */ })
		    .then(function () {
			hint(null);
			window.location.hash = '';
			showLogin();
		});
	}

	function init() {
		i18n.apply();
		langButtons();
		i18n.onchange(function () {
			langButtons();
			navigate();
			if ($('login').hidden === false)
				$('loginerr').textContent = '';
		});
		[$('lang'), $('lang2')].forEach(function (b) {
			b.addEventListener('click', function () {
				i18n.set(i18n.lang() === 'ko' ? 'en' : 'ko');
			});
		});
		$('loginform').addEventListener('submit', login);
		$('logout').addEventListener('click', logout);
		$('brand').addEventListener('change', function () {
			var r = route();
			window.location.hash = '#/' + $('brand').value + '/' +
			    (r ? r.analysis.id : tpc.analyses[0].id);
		});
		window.addEventListener('hashchange', navigate);
		document.addEventListener('visibilitychange', function () {
			if (!document.hidden && state.poll)
				views.refresh();
		});
		api.onunauthorized(function () {
			hint(null);
			showLogin(i18n.t('session_over'));
		});
		if (hint())
			enter().catch(function () { showLogin(); });
		else
			showLogin();
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', init);
	else
		init();
})();
