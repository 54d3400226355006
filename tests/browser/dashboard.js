/*
 * dashboard.js — the dashboard in a real browser: Debian's chromium, headless, driven by
 * playwright-core against a tpcd started by test_dashboard.py (which passes the URL, the
 * passwords, the admin token and the output directory in the environment). Each step
 * prints PASS/FAIL; the last line is "RESULT passed=N failed=M". Screenshots of every
 * page go to $TPCD_BROWSER_OUT. Every wait polls a condition until a deadline.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

const URL0 = process.env.TPCD_URL;
const OUT = process.env.TPCD_BROWSER_OUT;
const PW = JSON.parse(process.env.TPCD_PASSWORDS);
const ADMIN_TOKEN = process.env.TPCD_ADMIN_TOKEN;
const DEADLINE = 1000 * Number(process.env.TPCD_TEST_DEADLINE || 60);
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ANALYSES = {	/* restated from web/js/analyses.js: what each page must show */
	mau: ['mau_users', 'user_segments', 'user_counts'], new: ['new_members'],
	demographics: ['age_group_analysis', 'region_sales'], heavy: ['heavy_users'],
	menu: ['heavy_users_by_menu'], category: ['sales_by_category', 'hourly_sales'],
	repurchase: ['repurchase_metrics'], nonbuyers: ['non_purchasers'],
	cycle: ['regional_purchase_cycle'] };

let passed = 0, failed = 0;
const consoleErrors = [];

function check(cond, msg) {
	if (!cond)
		throw new Error(msg);
}

async function step(name, fn) {
	const t0 = Date.now();
	try {
		await fn();
		passed++;
		console.log('PASS ' + name + ' (' + ((Date.now() - t0) / 1000).toFixed(1) + 's)');
	} catch (e) {
		failed++;
		console.log('FAIL ' + name + '\n' + (e && e.stack ? e.stack : e));
	}
}

/* Polls fn() until it returns something truthy. */
async function waitFor(fn, what, ms) {
	const end = Date.now() + (ms || DEADLINE);
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('timed out waiting for ' + what);
		await new Promise((r) => setTimeout(r, 50));
	}
}

function watch(page, label) {
	page.on('console', (m) => {
		if (m.type() === 'error')
			consoleErrors.push(label + ': ' + m.text());
	});
	page.on('pageerror', (e) => consoleErrors.push(label + ': page error ' + e.message));
}

async function login(page, user) {
	await page.goto(URL0 + '/');
	await page.waitForSelector('#loginform', { state: 'visible' });
	/* by keyboard: the form must be usable without a mouse */
	await page.focus('#user');
	await page.keyboard.type(user);
	await page.keyboard.press('Tab');
	await page.keyboard.type(PW[user]);
	await page.keyboard.press('Enter');
	await page.waitForSelector('#navlist a', { state: 'visible' });
}

/* Waits until every block of the open analysis shows its table. */
async function pageReady(page, id, brand) {
	await waitFor(() => page.evaluate(([aggs, id, brand]) => {
		const pg = document.getElementById('page');
		if (pg.hidden || pg.getAttribute('data-analysis') !== id ||
		    pg.getAttribute('data-brand') !== brand)
			return false;
		return aggs.every((a) => {
			const s = document.getElementById('agg-' + a);
			return s && s.querySelector('table.data tbody') &&
			    (s.querySelector('canvas') || s.querySelector('table.heat'));
		});
	}, [ANALYSES[id], id, brand || 'a']), 'page ' + id + ' to be drawn');
}

async function apiJson(ctx, p) {
	const r = await ctx.request.get(URL0 + p);
	check(r.status() === 200, 'GET ' + p + ': ' + r.status());
	return r.json();
}

/* The numbers shown in a block's table are the API's: every cell of every row. */
async function compareTable(page, ctx, brand, agg) {
	const body = await apiJson(ctx, '/v1/brands/' + brand + '/aggregates/' + agg);
	const shown = await page.$$eval('#agg-' + agg + ' table.data tbody tr',
	    (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)));
	const titles = await page.$$eval('#agg-' + agg + ' table.data tbody tr',
	    (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.title)));
	const heads = await page.$$eval('#agg-' + agg + ' table.data thead th',
	    (ths) => ths.length);
	check(heads === body.columns.length, agg + ': ' + heads + ' columns shown, API has ' +
	    body.columns.length);
	check(shown.length === body.rows.length, agg + ': ' + shown.length +
	    ' rows shown, API has ' + body.rows.length);
	check(body.rows.length > 0, agg + ': the demo data has rows');
	body.rows.forEach((row, i) => row.forEach((v, j) => {
		const t = shown[i][j], type = body.columns[j].type;
		const where = agg + ' row ' + i + ' column ' + body.columns[j].name;
		if (v === null) {
			check(t === '\u2013', where + ': null shown as ' + JSON.stringify(t));
			check(titles[i][j].length > 0, where + ': a null cell says why on hover');
			return;
		}
		check(titles[i][j] === '', where + ': only null cells carry a hover note');
		if (type === 'int64') {
			check(Number(t.replace(/,/g, '')) === v, where + ': shown ' + t + ', API ' + v);
		} else if (type === 'double') {
			const n = Number(t.replace(/,/g, ''));
			check(Math.abs(n - v) <= 0.005 + 1e-9 * Math.abs(v), where + ': shown ' + t +
			    ', API ' + v);
		} else {
			check(t === String(v), where + ': shown ' + t + ', API ' + v);
		}
	}));
	return body;
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, name + '.png'), fullPage: true });
}

async function main() {
	fs.mkdirSync(OUT, { recursive: true });
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
	    headless: true, chromiumSandbox: false, args: FLAGS });
	const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 },
	    acceptDownloads: true });
	const page = await ctx.newPage();
	const requests = [], responses = [];
	watch(page, 'brand_a_user');
	page.on('request', (r) => requests.push(r));
	page.on('response', (r) => responses.push(r));
	let catalogue = null;

	await step('login page (Korean, no request needing a session)', async () => {
		await page.goto(URL0 + '/');
		await page.waitForSelector('#loginform', { state: 'visible' });
		check(await page.textContent('#loginform h1') === 'tpcd 분석 대시보드',
		    'the Korean title');
		check(await page.getAttribute('html', 'lang') === 'ko', 'lang=ko');
		await shot(page, 'login');
	});

	await step('first load within the budget (< 250 KB compressed)', async () => {
		let total = 0;
		for (const r of responses) {
			const s = await r.request().sizes();
			total += s.responseBodySize + s.responseHeadersSize;
		}
		console.log('  first load: ' + responses.length + ' responses, ' +
		    (total / 1024).toFixed(1) + ' KB transferred');
		check(total > 0 && total < 250 * 1024, 'transferred ' + total + ' bytes');
		const gz = responses.filter((r) => r.url().indexOf('/assets/') >= 0)
		    .every((r) => r.headers()['content-encoding'] === 'gzip');
		check(gz, 'every asset came gzip\'ed');
	});

	await step('log in as brand_a_user (keyboard); the picker lists brand a only', async () => {
		await login(page, 'brand_a_user');
		const opts = await page.$$eval('#brand option', (os) => os.map((o) => o.value));
		check(JSON.stringify(opts) === '["a"]', 'picker options ' + JSON.stringify(opts));
		catalogue = await apiJson(ctx, '/v1/brands/a/aggregates');
	});

	await step('every analysis page: chart drawn, table equals the API', async () => {
		const links = await page.$$eval('#navlist a', (as) => as.map((a) =>
		    a.getAttribute('data-analysis')));
		check(JSON.stringify(links) === JSON.stringify(Object.keys(ANALYSES)),
		    'the menu lists the nine analyses: ' + links);
		for (const id of Object.keys(ANALYSES)) {
			const t0 = Date.now();
			await page.click('#navlist a[data-analysis=' + id + ']');
			await pageReady(page, id);
			console.log('  ' + id + ': drawn in ' + (Date.now() - t0) + ' ms');
			for (const agg of ANALYSES[id]) {
				await compareTable(page, ctx, 'a', agg);
				const meta = catalogue.aggregates.find((m) => m.name === agg);
				const h2 = await page.textContent('#agg-' + agg + ' h2');
				check(h2 === meta.title_ko, agg + ': Korean title ' + h2);
				const drawn = await page.$eval('#agg-' + agg + ' .chart', (el) => {
					const c = el.querySelector('canvas');
					if (c)
						return c.width > 100 && c.height > 100;
					return el.querySelectorAll('table.heat td').length === 7 * 24;
				});
				check(drawn, agg + ': the chart is drawn');
			}
			const fresh = await page.textContent('#fresh');
			check(/세대 \d+/.test(fresh), id + ': freshness line ' + fresh);
			await shot(page, 'a_' + id + '_ko');
		}
	});

	await step('keyboard: Tab reaches the menu, Enter opens an analysis', async () => {
		await page.focus('#navlist a[data-analysis=new]');
		await page.keyboard.press('Tab');
		const focused = await page.evaluate(() => document.activeElement.getAttribute(
		    'data-analysis'));
		check(focused === 'demographics', 'Tab moves along the menu: ' + focused);
		await page.keyboard.press('Enter');
		await waitFor(() => page.evaluate(() => location.hash === '#/a/demographics'),
		    'Enter to open the analysis');
		await pageReady(page, 'demographics');
	});

	await step('English switch changes the titles and is remembered', async () => {
		await page.click('#lang');
		const meta = catalogue.aggregates.find((m) => m.name === 'age_group_analysis');
		await waitFor(async () => await page.textContent('#agg-age_group_analysis h2') ===
		    meta.title_en, 'the English title');
		check(await page.textContent('#ptitle') === 'Region and age distribution',
		    'the page title in English');
		check(await page.textContent('#logout') === 'Log out', 'the header in English');
		await page.reload();
		await pageReady(page, 'demographics');
		check(await page.textContent('#agg-age_group_analysis h2') === meta.title_en,
		    'still English after a reload');
		await compareTable(page, ctx, 'a', 'region_sales');
		await shot(page, 'a_demographics_en');
		await page.click('#lang');
		await waitFor(async () => await page.textContent('#agg-age_group_analysis h2') ===
		    meta.title_ko, 'Korean again');
	});

	await step('CSV download: UTF-8 with BOM, the API\'s CSV after it', async () => {
		await page.click('#navlist a[data-analysis=cycle]');
		await pageReady(page, 'cycle');
		const [dl] = await Promise.all([page.waitForEvent('download'),
		    page.click('#agg-regional_purchase_cycle button.csv')]);
		const file = await dl.path();
		const bytes = fs.readFileSync(file);
		check(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, 'a UTF-8 BOM');
		const api = await ctx.request.get(URL0 +
		    '/v1/brands/a/aggregates/regional_purchase_cycle?format=csv');
		check(bytes.slice(3).equals(await api.body()), 'the CSV is the API\'s');
		check(dl.suggestedFilename() === 'a_regional_purchase_cycle.csv', 'file name ' +
		    dl.suggestedFilename());
	});

	await step('polling: new data shows up without reload or flicker; 304s between', async () => {
		await page.click('#navlist a[data-analysis=mau]');
		await pageReady(page, 'mau');
		const gen0 = Number(await page.getAttribute('#fresh', 'data-generation'));
		const before = await compareTable(page, ctx, 'a', 'mau_users');
		await page.evaluate(() => {
			window.__notReloaded = true;
			document.querySelector('#agg-mau_users canvas').__same = true;
		});
		const since = responses.length;
		const isMau = (x) => x.url().endsWith('/v1/brands/a/aggregates/mau_users');
		/* unchanged data: the polls cost a 304 each */
		await waitFor(() => responses.slice(since).some((x) => isMau(x) &&
		    x.status() === 304), 'a poll answered 304');
		/* new data: one more order in the source, then a refresh */
		execFileSync('python3', ['-c', 'import sqlite3, sys\n' +
		    'c = sqlite3.connect(sys.argv[1])\n' +
		    'c.execute("INSERT INTO orders (member_id, store_id, ordered_at) SELECT ' +
		    'member_id, store_id, ordered_at FROM orders ORDER BY order_id DESC LIMIT 1")\n' +
		    'c.commit()\n', process.env.TPCD_SOURCE_A]);
		const r = await ctx.request.post(URL0 + '/v1/refresh',
		    { headers: { Authorization: 'Bearer ' + ADMIN_TOKEN } });
		check(r.status() === 202, 'refresh requested: ' + r.status());
		await waitFor(async () => Number(await page.getAttribute('#fresh',
		    'data-generation')) > gen0, 'the page to show the new generation');
		await waitFor(async () => {
			try {
				const after = await compareTable(page, ctx, 'a', 'mau_users');
				return JSON.stringify(after.rows) !== JSON.stringify(before.rows);
			} catch (e) {
				return false;
			}
		}, 'the table to show the new numbers');
		check(await page.evaluate(() => window.__notReloaded === true), 'no reload');
		check(await page.evaluate(() => document.querySelector(
		    '#agg-mau_users canvas').__same === true), 'the chart was updated in place');
		const polls = responses.slice(since).filter(isMau);
		check(polls.every((x) => x.request().headers()['if-none-match']),
		    'every poll sent If-None-Match');
		check(polls.some((x) => x.status() === 200), 'the changed body came as a 200');
	});

	await step('brand b is out of reach: picker, URL tampering, API', async () => {
		const opts = await page.$$eval('#brand option', (os) => os.map((o) => o.value));
		check(opts.indexOf('b') < 0, 'no brand b in the picker');
		const since = requests.length;
		await page.evaluate(() => { location.hash = '#/b/mau'; });
		await waitFor(async () => await page.isVisible('#msg') &&
		    await page.textContent('#msg') === '이 브랜드를 볼 권한이 없습니다.',
		    'the refusal message');
		check(await page.$$eval('#blocks section', (s) => s.length) === 0 ||
		    await page.isHidden('#page'), 'no data shown for brand b');
		await shot(page, 'a_tampered_b');
		check(!requests.slice(since).some((q) => q.url().indexOf('/brands/b/') >= 0),
		    'the page asked nothing about brand b');
		const api = await ctx.request.get(URL0 + '/v1/brands/b/aggregates/mau_users');
		check(api.status() === 403, 'the API refuses brand b with the session: ' +
		    api.status());
	});

	await step('tablet width: the menu above the page, nothing cut off', async () => {
		await page.setViewportSize({ width: 820, height: 1180 });
		await page.evaluate(() => { location.hash = '#/a/category'; });
		await pageReady(page, 'category');
		const ok = await page.evaluate(() => {
			const nav = document.getElementById('nav').getBoundingClientRect();
			const main = document.getElementById('main').getBoundingClientRect();
			return nav.bottom <= main.top + 1 && main.right <= window.innerWidth + 1 &&
			    document.documentElement.scrollWidth <= window.innerWidth + 1;
		});
		check(ok, 'the tablet layout fits the width');
		await shot(page, 'a_category_tablet');
		await page.setViewportSize({ width: 1366, height: 900 });
	});

	await step('logout ends the session', async () => {
		await page.click('#logout');
		await page.waitForSelector('#loginform', { state: 'visible' });
		const r = await ctx.request.get(URL0 + '/v1/me');
		check(r.status() === 401, 'after logout /v1/me is ' + r.status());
		const cookies = await ctx.cookies();
		check(!cookies.some((c) => c.name === 'tpcd_session' && c.value), 'cookie cleared');
	});

	await step('an admin sees both brands and brand b\'s numbers', async () => {
		const actx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
		const ap = await actx.newPage();
		watch(ap, 'admin');
		await login(ap, 'admin');
		const opts = await ap.$$eval('#brand option', (os) => os.map((o) => o.value));
		check(JSON.stringify(opts) === '["a","b"]', 'admin picker ' + JSON.stringify(opts));
		await ap.selectOption('#brand', 'b');
		await waitFor(() => ap.evaluate(() => location.hash === '#/b/mau'), 'brand b');
		await pageReady(ap, 'mau', 'b');
		for (const agg of ANALYSES.mau)
			await compareTable(ap, actx, 'b', agg);
		await shot(ap, 'admin_b_mau_ko');
		await actx.close();
	});

	await step('no console errors (CSP violations included) on any page', async () => {
		check(consoleErrors.length === 0, consoleErrors.join('\n'));
	});

	await browser.close();
}

main().catch((e) => {
	failed++;
	console.log('FAIL setup\n' + (e && e.stack ? e.stack : e));
}).finally(() => {
	console.log('RESULT passed=' + passed + ' failed=' + failed);
	process.exit(failed ? 1 : 0);
});
