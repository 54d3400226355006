/*
 * i18n.js — the page's own words in Korean (the default) and English, and the language
 * switch, remembered in localStorage. Titles, column names and units of the data come
 * from the catalogue (GET /v1/brands/{b}/aggregates), not from here.
 */
'use strict';
var tpc = window.tpc = window.tpc || {};

tpc.i18n = (function () {
	var KEY = 'tpcd.lang';
	var words = {
		ko: {
			skip: '본문으로 건너뛰기', brand: '브랜드', logout: '로그아웃',
			login_title: 'tpcd 분석 대시보드', user: '사용자', password: '비밀번호',
			login: '로그인', nav_label: '분석', login_failed: '사용자 또는 비밀번호가 틀렸습니다.',
			throttled: '로그인 시도가 너무 많습니다. 잠시 후 다시 시도하세요.',
			error: '오류', csv: 'CSV 내려받기', rows: '행',
			data_time: '데이터 시각', snapshot: '스냅샷', generation: '세대',
			refresh_every: '갱신 주기', checked: '최근 확인', minutes: '분', seconds: '초',
			stale: '데이터가 오래되었습니다: 마지막 확인이 %s 전입니다.',
			hours: '시간', no_brand: '이 브랜드를 볼 권한이 없습니다.',
			no_brands: '볼 수 있는 브랜드가 없습니다.', not_ready: '아직 데이터가 없습니다.',
			session_over: '세션이 끝났습니다. 다시 로그인하세요.', admin: '관리자',
			unit_KRW: '원', unit_days: '일', unit_pct: '%', table: '표',
			heat_low: '적음', heat_high: '많음', weekday_hour: '요일 × 시간대',
			no_value: '값 없음: 데이터 수집 시작 전이라 알 수 없거나 계산할 수 없음'
		},
		en: {
			skip: 'Skip to content', brand: 'Brand', logout: 'Log out',
			login_title: 'tpcd analytics dashboard', user: 'User', password: 'Password',
			login: 'Log in', nav_label: 'Analyses', login_failed: 'Wrong user or password.',
			throttled: 'Too many attempts. Try again later.',
			error: 'Error', csv: 'Download CSV', rows: 'rows',
			data_time: 'Data time', snapshot: 'Snapshot', generation: 'generation',
			refresh_every: 'Refreshed every', checked: 'Last checked', minutes: 'min', seconds: 's',
			stale: 'The data is stale: last checked %s ago.',
			hours: 'h', no_brand: 'You may not read this brand.',
			no_brands: 'There is no brand you may read.', not_ready: 'No data yet.',
			session_over: 'Your session has ended. Please log in again.', admin: 'admin',
			unit_KRW: 'KRW', unit_days: 'days', unit_pct: '%', table: 'Table',
			heat_low: 'fewer', heat_high: 'more', weekday_hour: 'Weekday × hour',
			no_value: 'No value: unknown (before the data\'s coverage start) or not computable'
		}
	};
	var lang = 'ko';
	var listeners = [];

	try {
		if (window.localStorage.getItem(KEY) === 'en')
			lang = 'en';
	} catch (e) { /* storage disabled: Korean */ }

	function t(key) {
		var w = words[lang][key];
		return w === undefined ? key : w;
	}

	/* Fills every element marked data-i18n / data-i18n-label under root. */
	function apply(root) {
		var els = (root || document).querySelectorAll('[data-i18n]');
		for (var i = 0; i < els.length; i++)
			els[i].textContent = t(els[i].getAttribute('data-i18n'));
		els = (root || document).querySelectorAll('[data-i18n-label]');
		for (i = 0; i < els.length; i++)
			els[i].setAttribute('aria-label', t(els[i].getAttribute('data-i18n-label')));
		document.documentElement.lang = lang;
	}

	function set(l) {
		lang = l === 'en' ? 'en' : 'ko';
		try {
			window.localStorage.setItem(KEY, lang);
		} catch (e) { /* not remembered, still switched */ }
		apply();
		listeners.forEach(function (fn) { fn(lang); });
	}

	return {
		t: t,
		apply: apply,
		set: set,
		lang: function () { return lang; },
		locale: function () { return lang === 'ko' ? 'ko-KR' : 'en-US'; },
		/* a catalogue object's title in the current language */
		title: function (o) { return (lang === 'ko' ? o.title_ko : o.title_en) || o.name; },
		onchange: function (fn) { listeners.push(fn); }
	};
})();
