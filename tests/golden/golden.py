"""Reference implementation of the 13 aggregates, in plain Python.

It reads the raw tables with `SELECT * FROM <table>` only and computes every aggregate
with loops and dicts, following the definitions in schema/README.md rather than the
SQL in schema/sqlite/, so that a bug in one is unlikely to be repeated in the other.

    expected(db_path, params) -> {aggregate name: [row, ...]}

Rows are lists in the catalogue's column order, sorted like the SQL's ORDER BY. Doubles
are rounded like SQLite's ROUND(x, 4) (half away from zero, on the decimal value).
"""
import bisect
import datetime
import sqlite3
from decimal import Decimal, ROUND_HALF_UP

WEEKDAY_NAMES = {1: 'Mon', 2: 'Tue', 3: 'Wed', 4: 'Thu', 5: 'Fri', 6: 'Sat', 7: 'Sun'}
SEGMENTS = ['new', 'light', 'regular', 'heavy', 'dormant']


# ------------------------------------------------------------------ helpers

def sql_round(x, digits=4):
    """SQLite's ROUND(x, digits): rounds the shortest decimal form of x half away from
    zero (Python's round() rounds half to even on the binary value instead)."""
    if x is None:
        return None
    q = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(q)


def pct(part, whole):
    """part / whole in percent, as the SQL computes it (100.0 * part / whole); NULL
    when whole is 0 (SQLite's division by zero)."""
    if whole == 0:
        return None
    return sql_round(100.0 * part / whole)


def day_of(ts):
    """'YYYY-MM-DD[ HH:MM:SS]' -> date."""
    return datetime.date.fromisoformat(ts[:10])


def month_of(ts):
    return ts[:7]


def age_group(birth_year, as_of):
    """Decades by age at as_of's year; under 20 (under-10s too) is '10s', 60 and over
    '60+', unknown birth year 'unknown'."""
    if birth_year is None:
        return 'unknown'
    decade = (as_of.year - birth_year) // 10
    decade = min(max(decade, 1), 6)
    return '60+' if decade == 6 else '%d0s' % decade


def last_days(end, n):
    """The n days ending at end (inclusive), oldest first."""
    return [end - datetime.timedelta(days=n - 1 - i) for i in range(n)]


def in_window(d, end, n):
    """d is one of the n days ending at end."""
    return end - datetime.timedelta(days=n - 1) <= d <= end


# ------------------------------------------------------------------ data

class Data:
    """The raw rows of one brand database, plus a few derived lookups."""

    def __init__(self, db_path):
        con = sqlite3.connect(db_path)
        con.row_factory = sqlite3.Row

        def rows(table):
            return [dict(r) for r in con.execute('SELECT * FROM ' + table)]

        meta = {r['key']: r['value'] for r in rows('meta')}
        self.as_of = datetime.date.fromisoformat(meta['as_of'])
        self.members = {r['member_id']: r for r in rows('members')}
        self.stores = {r['store_id']: r for r in rows('stores')}
        self.products = {r['product_id']: r for r in rows('products')}
        self.orders = rows('orders')
        self.lines = rows('order_lines')
        con.close()

        # revenue of each order (orders without lines have 0)
        self.revenue = {o['order_id']: 0 for o in self.orders}
        self.lines_of = {o['order_id']: [] for o in self.orders}
        for l in self.lines:
            self.revenue[l['order_id']] += l['qty'] * l['unit_price']
            self.lines_of[l['order_id']].append(l)
        # each member's orders in sequence: by time, then order_id
        self.orders_of = {m: [] for m in self.members}
        for o in sorted(self.orders, key=lambda o: (o['ordered_at'], o['order_id'])):
            self.orders_of[o['member_id']].append(o)
        # the first day the order history is complete: declared, else the first order's
        # day; None when there is neither (no orders: nothing is covered)
        if 'coverage_start' in meta:
            self.coverage = datetime.date.fromisoformat(meta['coverage_start'])
        elif self.orders:
            self.coverage = min(day_of(o['ordered_at']) for o in self.orders)
        else:
            self.coverage = None

    def covered(self, day, look_back):
        """The look_back days ending at day all lie on or after coverage start."""
        return (self.coverage is not None and
                day - datetime.timedelta(days=look_back - 1) >= self.coverage)

    def month_covered(self, month):
        """Every day of the calendar month 'YYYY-MM' lies on or after coverage start."""
        return (self.coverage is not None and
                datetime.date.fromisoformat(month + '-01') >= self.coverage)

    def joined_covered(self, member_id):
        """The member joined on or after coverage start, so (no order precedes joining)
        all of their orders are in the data."""
        return (self.coverage is not None and
                day_of(self.members[member_id]['joined_at']) >= self.coverage)

    def age_group(self, member):
        return age_group(member['birth_year'], self.as_of)


# ------------------------------------------------------------------ aggregates

def user_counts(d, p):
    # A member is active / not dormant on a day when their last order on or before that
    # day is less than active_days / dormant_days days old. Dormant members split into
    # lapsed (ordered before) and never ordered. A count whose look-back window reaches
    # before coverage start is unknown (None).
    order_days = {m: sorted({day_of(o['ordered_at']) for o in os})
                  for m, os in d.orders_of.items()}
    joined = {m: day_of(r['joined_at']) for m, r in d.members.items()}
    out = []
    for day in last_days(d.as_of, p['history_days']):
        total = new = active = dormant = lapsed = never = 0
        for m in d.members:
            if joined[m] > day:
                continue
            total += 1
            new += joined[m] == day
            i = bisect.bisect_right(order_days[m], day)
            age = (day - order_days[m][i - 1]).days if i else None
            active += age is not None and age < p['active_days']
            dormant += age is None or age >= p['dormant_days']
            lapsed += age is not None and age >= p['dormant_days']
            never += age is None
        if not d.covered(day, p['active_days']):
            active = None
        if not d.covered(day, p['dormant_days']):
            dormant = lapsed = never = None
        out.append([day.isoformat(), total, new, active, dormant, lapsed, never])
    return out


def mau_users(d, p):
    buyers, orders = {}, {}
    for o in d.orders:
        mo = month_of(o['ordered_at'])
        buyers.setdefault(mo, set()).add(o['member_id'])
        orders[mo] = orders.get(mo, 0) + 1
    return [[mo, len(buyers[mo]), orders[mo]] for mo in sorted(orders)]


def user_segments(d, p):
    # a month that begins before coverage start is left out: its order counts are partial
    months = sorted({month_of(o['ordered_at']) for o in d.orders
                     if d.month_covered(month_of(o['ordered_at']))})
    out = []
    for mo in months:
        members = {s: 0 for s in SEGMENTS}
        orders = {s: 0 for s in SEGMENTS}
        total = 0
        for m, r in d.members.items():
            if month_of(r['joined_at']) > mo:
                continue                        # not a member yet
            n = sum(1 for o in d.orders_of[m] if month_of(o['ordered_at']) == mo)
            if month_of(r['joined_at']) == mo:
                seg = 'new'
            elif n == 0:
                seg = 'dormant'
            elif n >= p['heavy_min_orders']:
                seg = 'heavy'
            elif n >= p['regular_min_orders']:
                seg = 'regular'
            else:
                seg = 'light'
            members[seg] += 1
            orders[seg] += n
            total += 1
        for seg in sorted(SEGMENTS):
            out.append([mo, seg, members[seg], orders[seg], pct(members[seg], total)])
    return out


def new_members(d, p):
    # whether a member who joined before coverage start ordered is unknown: orders
    # before it are not in the data
    out = []
    for day in last_days(d.as_of, p['history_days']):
        joined = [m for m, r in d.members.items() if day_of(r['joined_at']) == day]
        ordered = [m for m in joined if d.orders_of[m]]
        known = d.coverage is not None and day >= d.coverage
        out.append([day.isoformat(), len(joined), len(ordered) if known else None])
    return out


def age_group_analysis(d, p):
    groups = {}
    for m, r in d.members.items():
        g = groups.setdefault((d.age_group(r), r['gender']),
                              {'members': 0, 'buyers': 0, 'orders': 0, 'revenue': 0})
        g['members'] += 1
        recent = [o for o in d.orders_of[m]
                  if in_window(day_of(o['ordered_at']), d.as_of, p['window_days'])]
        if recent:
            g['buyers'] += 1
            g['orders'] += len(recent)
            g['revenue'] += sum(d.revenue[o['order_id']] for o in recent)
    # the window's measures are unknown when it begins before coverage start
    known = d.covered(d.as_of, p['window_days'])
    return [[ag, gender, g['members']] +
            ([g['buyers'], g['orders'], g['revenue'], pct(g['buyers'], g['members'])]
             if known else [None] * 4)
            for (ag, gender), g in sorted(groups.items())]


def region_sales(d, p):
    cells = {}
    for o in d.orders:
        key = (month_of(o['ordered_at']), d.stores[o['store_id']]['region'])
        c = cells.setdefault(key, {'orders': 0, 'buyers': set(), 'revenue': 0})
        c['orders'] += 1
        c['buyers'].add(o['member_id'])
        c['revenue'] += d.revenue[o['order_id']]
    return [[mo, region, c['orders'], len(c['buyers']), c['revenue'],
             sql_round(c['revenue'] / c['orders'])]
            for (mo, region), c in sorted(cells.items())]


def hourly_sales(d, p):
    grid = {(w, h): [0, 0] for w in range(1, 8) for h in range(24)}
    for o in d.orders:
        t = datetime.datetime.fromisoformat(o['ordered_at'])
        cell = grid[(t.isoweekday(), t.hour)]
        cell[0] += 1
        cell[1] += d.revenue[o['order_id']]
    return [[w, WEEKDAY_NAMES[w], h, c[0], c[1]] for (w, h), c in sorted(grid.items())]


def sales_by_category(d, p):
    orders = {o['order_id']: o for o in d.orders}
    cells = {}
    for l in d.lines:
        key = (month_of(orders[l['order_id']]['ordered_at']),
               d.products[l['product_id']]['category'])
        c = cells.setdefault(key, {'qty': 0, 'orders': set(), 'revenue': 0})
        c['qty'] += l['qty']
        c['orders'].add(l['order_id'])
        c['revenue'] += l['qty'] * l['unit_price']
    return [[mo, cat, c['qty'], len(c['orders']), c['revenue']]
            for (mo, cat), c in sorted(cells.items())]


def repurchase_metrics(d, p):
    # matured: the member's N-day window after the first order has fully elapsed by
    # as_of; a rate is given only when every buyer of the cohort has matured. A member
    # who joined before coverage start may have ordered before the data begins: not in
    # the cohort, only counted (last column) under their first order on record.
    windows = [p['repurchase_short_days'], p['repurchase_mid_days'], p['repurchase_long_days']]
    cohorts, unknown = {}, {}
    for m, os in d.orders_of.items():
        if not os:
            continue
        mo = month_of(os[0]['ordered_at'])
        c = cohorts.setdefault(mo, [0, 0, 0, 0, 0, 0, 0])
        if not d.joined_covered(m):
            unknown[mo] = unknown.get(mo, 0) + 1
            continue
        c[0] += 1
        first = day_of(os[0]['ordered_at'])
        for i, w in enumerate(windows):
            c[4 + i] += (d.as_of - first).days >= w
        if len(os) >= 2:
            gap = (day_of(os[1]['ordered_at']) - first).days
            for i, w in enumerate(windows):
                c[1 + i] += gap <= w
    out = []
    for mo, c in sorted(cohorts.items()):
        rates = [pct(c[1 + i], c[0]) if c[4 + i] == c[0] else None for i in range(3)]
        out.append([mo] + c + rates + [unknown.get(mo, 0)])
    return out


def heavy_users(d, p):
    heavy = p['heavy_min_orders']
    per_member = {}                      # (month, member) -> [orders, revenue]
    for o in d.orders:
        if not d.month_covered(month_of(o['ordered_at'])):
            continue                     # partial month: counts would be too low
        c = per_member.setdefault((month_of(o['ordered_at']), o['member_id']), [0, 0])
        c[0] += 1
        c[1] += d.revenue[o['order_id']]
    buckets, totals = {}, {}
    for (mo, _), (n, rev) in per_member.items():
        for key, acc in (((mo, min(n, heavy)), buckets), (mo, totals)):
            b = acc.setdefault(key, [0, 0, 0])
            b[0] += 1
            b[1] += n
            b[2] += rev
    out = []
    for (mo, f), b in sorted(buckets.items()):
        t = totals[mo]
        label = '%d+' % f if f >= heavy else str(f)
        out.append([mo, f, label, b[0], b[1], b[2], pct(b[0], t[0]), pct(b[1], t[1]),
                    pct(b[2], t[2])])
    return out


def heavy_users_by_menu(d, p):
    bought = {}                          # (product, member) -> [order ids, qty]
    for m, os in d.orders_of.items():
        for o in os:
            if not in_window(day_of(o['ordered_at']), d.as_of, p['window_days']):
                continue
            for l in d.lines_of[o['order_id']]:
                b = bought.setdefault((l['product_id'], m), [set(), 0])
                b[0].add(o['order_id'])
                b[1] += l['qty']
    per_product = {}
    for (pid, _), (oids, qty) in bought.items():
        s = per_product.setdefault(pid, {'buyers': 0, 'qty': 0, 'heavy': 0, 'heavy_qty': 0})
        s['buyers'] += 1
        s['qty'] += qty
        if len(oids) >= p['menu_heavy_min_orders']:
            s['heavy'] += 1
            s['heavy_qty'] += qty
    known = d.covered(d.as_of, p['window_days'])      # as in age_group_analysis
    out = []
    for pid, s in sorted(per_product.items()):
        prod = d.products[pid]
        measures = [s['buyers'], s['qty'], s['heavy'], pct(s['heavy'], s['buyers']),
                    pct(s['heavy_qty'], s['qty'])]
        out.append([pid, prod['name'], prod['category']] +
                   (measures if known else [None] * 5))
    return out


def non_purchasers(d, p):
    # "never bought a product of a kind" is known when the member bought one in the
    # data, or none of their possible purchases of it can predate coverage start: they
    # joined on or after it, or every product of the kind launched on or after it
    def launched_covered(flag):
        days = [datetime.date.fromisoformat(pr['launched_at'])
                for pr in d.products.values() if pr[flag]]
        return d.coverage is not None and all(day >= d.coverage for day in days)

    kinds = ('is_new', 'is_signature')
    launch_ok = {k: launched_covered(k) for k in kinds}
    groups = {}
    for m, os in d.orders_of.items():
        if not any(in_window(day_of(o['ordered_at']), d.as_of, p['active_days']) for o in os):
            continue
        products = [d.products[l['product_id']] for o in os for l in d.lines_of[o['order_id']]]
        r = d.members[m]
        g = groups.setdefault((r['region'], d.age_group(r)),
                              {'active': 0, 'never': [0, 0], 'known': [0, 0]})
        g['active'] += 1
        for i, k in enumerate(kinds):
            bought = any(pr[k] for pr in products)
            if bought or d.joined_covered(m) or launch_ok[k]:
                g['known'][i] += 1
                g['never'][i] += not bought
    # who is active is unknown when the active window begins before coverage start
    known = d.covered(d.as_of, p['active_days'])
    return [[region, ag] +
            ([g['active'], g['never'][0], g['never'][1],
              pct(g['never'][0], g['known'][0]), pct(g['never'][1], g['known'][1]),
              g['known'][0], g['known'][1]] if known else [None] * 7)
            for (region, ag), g in sorted(groups.items())]


def median(values):
    s = sorted(values)
    n = len(s)
    if n == 0:
        return None
    if n % 2:
        return float(s[n // 2])
    return (s[n // 2 - 1] + s[n // 2]) / 2


def top3(totals, products):
    """Names of the three products with the largest total (ties: lower id), padded."""
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return [products[pid]['name'] for pid, _ in top] + [None] * (3 - len(top))


def regional_purchase_cycle(d, p):
    # the cycle counts only orders on or after coverage start (a gap from an earlier
    # order may span orders missing from the data); buyers and products count them all
    regions = {}
    for m, all_os in d.orders_of.items():
        if not all_os:
            continue
        os = [o for o in all_os if d.coverage is not None and
              day_of(o['ordered_at']) >= d.coverage]
        r = regions.setdefault(d.members[m]['region'],
                               {'buyers': 0, 'repeat': 0, 'gaps': [], 'member_means': [],
                                'qty': {}, 'revenue': {}})
        r['buyers'] += 1
        r['repeat'] += len(os) >= 2
        gaps = [(day_of(b['ordered_at']) - day_of(a['ordered_at'])).days
                for a, b in zip(os, os[1:])]
        r['gaps'] += gaps
        if gaps:
            r['member_means'].append(sum(gaps) / len(gaps))
        for o in all_os:
            for l in d.lines_of[o['order_id']]:
                pid = l['product_id']
                r['qty'][pid] = r['qty'].get(pid, 0) + l['qty']
                r['revenue'][pid] = r['revenue'].get(pid, 0) + l['qty'] * l['unit_price']
    out = []
    for region, r in sorted(regions.items()):
        gaps = r['gaps']
        mean = sum(gaps) / len(gaps) if gaps else None
        out.append([region, r['buyers'], r['repeat'], len(gaps), sql_round(median(gaps)),
                    sql_round(mean), sql_round(median(r['member_means']))] +
                   top3(r['qty'], d.products) + top3(r['revenue'], d.products))
    return out


AGGREGATES = {
    'user_counts': user_counts,
    'mau_users': mau_users,
    'user_segments': user_segments,
    'new_members': new_members,
    'age_group_analysis': age_group_analysis,
    'region_sales': region_sales,
    'hourly_sales': hourly_sales,
    'sales_by_category': sales_by_category,
    'repurchase_metrics': repurchase_metrics,
    'heavy_users': heavy_users,
    'heavy_users_by_menu': heavy_users_by_menu,
    'non_purchasers': non_purchasers,
    'regional_purchase_cycle': regional_purchase_cycle,
}


def expected(db_path, params):
    """{aggregate name: expected rows} for the brand database at db_path. params maps
    the catalogue's param names to values (integers for the integer-looking ones)."""
    d = Data(db_path)
    p = {k: int(v) if isinstance(v, str) and v.lstrip('-').isdigit() else v
         for k, v in params.items()}
    return {name: fn(d, p) for name, fn in AGGREGATES.items()}
