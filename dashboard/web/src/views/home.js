// Home view per role: the few numbers each role acts on, each linking to its list.

import { get } from "../api.js";
import { ENQUIRY_BOARD, ENQUIRY_RESPONSE_HOURS } from "../config.js";
import { clear, h, heading, link, money, table } from "../ui.js";

const DAY_MS = 86_400_000;
const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const total = (path, query) =>
  get(path, { ...query, per_page: 1 }).then((d) => d.meta.total);

/** Departures starting in the next 14 days that still have seats left. */
async function upcomingDepartures() {
  const from = isoDate(Date.now());
  const to = isoDate(Date.now() + 14 * DAY_MS);
  const packages = (
    await get("/packages", {
      status: "published",
      starts_after: from,
      starts_before: to,
      per_page: 50,
    })
  ).items;
  const lists = await Promise.all(
    packages.map((p) =>
      get(`/packages/${p.id}/departures`, { per_page: 100 }).then((d) =>
        d.items.map((x) => ({ ...x, title: p.title })),
      ),
    ),
  );
  return lists
    .flat()
    .filter(
      (d) =>
        d.start_date >= from &&
        d.start_date <= to &&
        d.seats_left > 0 &&
        d.status !== "cancelled",
    )
    .sort((a, b) => a.start_date.localeCompare(b.start_date));
}

async function overdueInvoices() {
  const report = await get("/reports/invoices/unpaid", {
    overdue_only: true,
    limit: 500,
  });
  const rows = report.rows || [];
  const byCurrency = {};
  for (const r of rows)
    byCurrency[r.currency] = (byCurrency[r.currency] || 0) + Number(r.outstanding);
  return {
    count: rows.length,
    amount:
      Object.entries(byCurrency)
        .map(([c, a]) => money(a, c))
        .join(" + ") || "0.00",
  };
}

async function enquiriesWaiting() {
  const newOnes = await get("/enquiries", {
    [ENQUIRY_BOARD.filter]: ENQUIRY_BOARD.columns[0],
    per_page: 100,
  });
  const limit = ENQUIRY_RESPONSE_HOURS * 3_600_000;
  const overdue = newOnes.items.filter(
    (e) => Date.now() - new Date(e.created_at).getTime() > limit,
  ).length;
  return { count: newOnes.meta.total, overdue };
}

const tile = (label, value, href) =>
  h(
    "div",
    { class: "tile" },
    h("dt", {}, label),
    h("dd", {}, href ? link(href, String(value)) : String(value)),
  );

const departuresTable = (deps) =>
  table(
    [
      { label: "Package", value: (d) => link(`/departures/${d.id}`, d.title) },
      { label: "Starts", value: (d) => d.start_date },
      { label: "Seats left", value: (d) => d.seats_left, class: "num" },
      { label: "Taken", value: (d) => d.seats_taken, class: "num" },
    ],
    deps,
    "Departures in the next 14 days with seats left",
  );

/** Render the home view of `me.role`. */
export async function homeView(main, { me }) {
  const role = me.role;
  clear(
    main,
    heading(`Welcome, ${me.profile.name}`),
    h("p", { class: "loading" }, "Loading your numbers…"),
  );
  const tiles = [];
  const extra = [];
  if (["operation", "operation_head", "admin"].includes(role)) {
    const [waiting, drafts, rejected, deps] = await Promise.all([
      total("/packages", { status: "pending_approval" }),
      total("/packages", { status: "draft" }),
      total("/packages", { status: "rejected" }),
      upcomingDepartures(),
    ]);
    tiles.push(
      tile(
        "Approvals waiting",
        waiting,
        role === "operation" ? "/packages?status=pending_approval" : "/approvals",
      ),
      tile("Drafts", drafts, "/packages?status=draft"),
      tile("Rejected", rejected, "/packages?status=rejected"),
      tile("Departures in 14 days with seats left", deps.length),
    );
    extra.push(departuresTable(deps));
  }
  if (["sales", "admin"].includes(role)) {
    const [enq, held] = await Promise.all([
      enquiriesWaiting(),
      total("/bookings", { status: "held" }),
    ]);
    tiles.push(
      tile("New enquiries", enq.count, "/enquiries"),
      tile(`New for over ${ENQUIRY_RESPONSE_HOURS} h`, enq.overdue, "/enquiries"),
      tile("Bookings on hold", held),
    );
  }
  if (["finance", "admin"].includes(role)) {
    const [overdue, pending, refunds] = await Promise.all([
      overdueInvoices(),
      total("/invoices", { status: "pending" }),
      total("/refunds", { status: "pending" }),
    ]);
    tiles.push(
      tile("Overdue invoices", overdue.count, "/invoices?status=overdue"),
      tile("Overdue amount", overdue.amount),
      tile("Pending invoices", pending, "/invoices?status=pending"),
      tile("Refunds to complete", refunds, "/refunds"),
    );
  }
  if (["admin", "hr"].includes(role)) {
    tiles.push(
      tile(
        "Active employees",
        await total("/employees", { active: "true" }),
        "/employees",
      ),
    );
  }
  clear(
    main,
    heading(`Welcome, ${me.profile.name}`),
    h("dl", { class: "tiles" }, tiles),
    extra,
  );
}
