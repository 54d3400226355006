/*
 * analyses.js — the nine analyses of the seed and the thirteen aggregates they show, each
 * with the chart that suits it. chart kinds (charts.js): line (a time series of measures),
 * stacked (a measure per x stacked by a second dimension), bars (measures per category,
 * top N), heatmap (weekday × hour). Column names refer to schema/aggregates.yaml.
 */
'use strict';
var tpc = window.tpc = window.tpc || {};

tpc.analyses = [
	{ id: 'mau', ko: 'MAU 및 회원 세그먼트', en: 'MAU and member segments', blocks: [
		{ agg: 'mau_users', chart: { kind: 'line', x: 'month', y: ['mau', 'orders'] } },
		{ agg: 'user_segments', chart: { kind: 'stacked', x: 'month', group: 'segment',
		    y: 'members' } },
		{ agg: 'user_counts', chart: { kind: 'line', x: 'day',
		    y: ['total_members', 'active_members', 'lapsed_members',
		        'never_ordered_members'] } } ] },
	{ id: 'new', ko: '일별 신규 가입자', en: 'Daily new members', blocks: [
		{ agg: 'new_members', chart: { kind: 'line', x: 'day',
		    y: ['new_members', 'ordered_members'] } } ] },
	{ id: 'demographics', ko: '지역·연령대 분포', en: 'Region and age distribution', blocks: [
		{ agg: 'age_group_analysis', chart: { kind: 'stacked', x: 'age_group',
		    group: 'gender', y: 'members' } },
		{ agg: 'region_sales', chart: { kind: 'stacked', x: 'month', group: 'region',
		    y: 'revenue' } } ] },
	{ id: 'heavy', ko: '헤비 유저', en: 'Heavy users', blocks: [
		{ agg: 'heavy_users', chart: { kind: 'stacked', x: 'month', group: 'bucket',
		    y: 'members' } } ] },
	{ id: 'menu', ko: '메뉴별 헤비 유저', en: 'Heavy users by menu item', blocks: [
		{ agg: 'heavy_users_by_menu', chart: { kind: 'bars', x: 'product',
		    y: ['buyers', 'heavy_buyers'], top: 15 } } ] },
	{ id: 'category', ko: '카테고리·시간대별 매출', en: 'Sales by category and hour', blocks: [
		{ agg: 'sales_by_category', chart: { kind: 'stacked', x: 'month', group: 'category',
		    y: 'revenue' } },
		{ agg: 'hourly_sales', chart: { kind: 'heatmap', row: 'weekday', rowLabel:
		    'weekday_name', col: 'hour', value: 'orders' } } ] },
	{ id: 'repurchase', ko: '재구매율', en: 'Repurchase rate', blocks: [
		{ agg: 'repurchase_metrics', chart: { kind: 'line', x: 'cohort_month',
		    y: ['rate_short', 'rate_mid', 'rate_long'] } } ] },
	{ id: 'nonbuyers', ko: '신제품·시그니처 미구매자', en: 'Non-buyers of new and signature items',
	    blocks: [
		{ agg: 'non_purchasers', chart: { kind: 'stacked', x: 'region', group: 'age_group',
		    y: 'never_new' } } ] },
	{ id: 'cycle', ko: '지역별 구매 주기와 주요 상품', en: 'Regional purchase cycle and key products',
	    blocks: [
		{ agg: 'regional_purchase_cycle', chart: { kind: 'bars', x: 'region',
		    y: ['median_days', 'member_median_days', 'mean_days'] } } ] }
];
