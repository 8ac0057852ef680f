// Finance: invoices, payments, refunds to complete, revenue charts with CSV.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";
import { downloadCsv, get, post } from "../api.js";
import { INVOICE_STATUSES, PAYMENT_METHODS } from "../config.js";
import {
  announce,
  badge,
  busy,
  clear,
  field,
  formValues,
  h,
  heading,
  link,
  listView,
  money,
  showError,
  table,
  when,
} from "../ui.js";
import { paymentColumns } from "./sales.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

async function invoicesView(main, { query }) {
  clear(
    main,
    heading("Invoices"),
    listView({
      path: "/invoices",
      caption: "Invoices",
      initial: { status: query.status || "" },
      filters: [
        {
          label: "Status",
          name: "status",
          options: [["", "Any"], ...INVOICE_STATUSES],
        },
        { label: "Customer id", name: "customer_id", type: "number" },
        { label: "Booking id", name: "booking_id", type: "number" },
      ],
      columns: [
        { label: "Number", value: (i) => i.number },
        {
          label: "Booking",
          value: (i) =>
            link(
              `/bookings/${i.booking_id}`,
              i.booking_reference || `#${i.booking_id}`,
            ),
        },
        { label: "Issued", value: (i) => i.issue_date },
        { label: "Due", value: (i) => i.due_date },
        {
          label: "Total",
          value: (i) => money(i.total_amount, i.currency),
          class: "num",
        },
        {
          label: "Balance",
          value: (i) => money(i.balance_due, i.currency),
          class: "num",
        },
        { label: "Status", value: (i) => badge(i.status) },
      ],
    }),
  );
}

async function paymentsView(main) {
  clear(
    main,
    heading("Payments"),
    listView({
      path: "/payments",
      caption: "Payments",
      filters: [
        { label: "Method", name: "method", options: [["", "Any"], ...PAYMENT_METHODS] },
        { label: "Customer id", name: "customer_id", type: "number" },
      ],
      columns: paymentColumns,
    }),
  );
}

async function refundsView(main, { query }) {
  const errors = h("div");
  let list;
  const retry = (refund) => {
    const button = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await busy(button, () => post(`/refunds/${refund.id}/retry`, {}));
            announce("Refund sent to the payment provider again.");
            list.reload();
          } catch (error) {
            showError(errors, error);
          }
        },
      },
      `Retry refund ${refund.id}`,
    );
    return h(
      "div",
      {},
      h("p", { class: "hint" }, refund.failure_message || "The provider refused it."),
      button,
    );
  };
  const complete = (refund) => {
    if (refund.status === "failed") return retry(refund);
    if (refund.status !== "pending" || refund.destination !== "original") return "";
    const form = h(
      "form",
      {
        class: "inline-form",
        hidden: true,
        onsubmit: async (event) => {
          event.preventDefault();
          const { reference } = formValues(form);
          try {
            await busy(form.querySelector("button"), () =>
              post(`/refunds/${refund.id}/complete`, reference ? { reference } : {}),
            );
            announce("Refund marked completed.");
            list.reload();
          } catch (error) {
            showError(errors, error, form);
          }
        },
      },
      field("Bank reference", "reference", {}),
      h("button", { type: "submit", class: "primary" }, "Confirm"),
    );
    const button = h(
      "button",
      {
        type: "button",
        onclick: () => {
          button.hidden = true;
          form.hidden = false;
          form.querySelector("input").focus();
        },
      },
      `Complete refund ${refund.id}…`,
    );
    return h("div", {}, button, form);
  };
  list = listView({
    path: "/refunds",
    caption: "Refunds",
    initial: { status: query.status ?? "pending" },
    filters: [
      {
        label: "Status",
        name: "status",
        options: [["", "Any"], "pending", "failed", "completed"],
      },
    ],
    columns: [
      { label: "Created", value: (r) => when(r.created_at) },
      {
        label: "Booking",
        value: (r) => link(`/bookings/${r.booking_id}`, `#${r.booking_id}`),
      },
      { label: "Amount", value: (r) => money(r.amount, r.currency), class: "num" },
      { label: "To", value: (r) => r.destination },
      { label: "Status", value: (r) => badge(r.status) },
      { label: "Action", value: complete },
    ],
  });
  clear(main, heading("Refunds"), errors, list);
}

const REPORTS = [
  {
    path: "/reports/revenue/monthly",
    title: "Revenue by month",
    label: (r) => r.month,
    file: "revenue-monthly.csv",
  },
  {
    path: "/reports/revenue/by-destination",
    title: "Revenue by destination",
    label: (r) => r.destination,
    file: "revenue-by-destination.csv",
  },
  {
    path: "/reports/revenue/by-package",
    title: "Revenue by package",
    label: (r) => r.package_title,
    file: "revenue-by-package.csv",
  },
];

async function reportsView(main) {
  const year = new Date().getUTCFullYear();
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (e) => {
        e.preventDefault();
        load();
      },
    },
    field("From", "date_from", { type: "date", value: `${year - 1}-01-01` }),
    field("To", "date_to", { type: "date", value: `${year}-12-31` }),
    h("button", { type: "submit" }, "Apply"),
  );
  const slots = REPORTS.map(() => h("div"));
  async function load() {
    clear(errors);
    const filters = formValues(form);
    await Promise.all(
      REPORTS.map(async (report, i) => {
        try {
          const data = await get(report.path, {
            ...filters,
            limit: report.path.endsWith("monthly") ? undefined : 10,
          });
          drawReport(slots[i], report, data, filters, errors);
        } catch (error) {
          showError(errors, error);
        }
      }),
    );
  }
  clear(
    main,
    heading("Reports"),
    form,
    errors,
    REPORTS.map((r, i) =>
      h("section", { class: "card report" }, h("h2", {}, r.title), slots[i]),
    ),
  );
  await load();
}

function drawReport(slot, report, data, filters, errors) {
  const canvas = h("canvas", {
    role: "img",
    "aria-label": `${report.title}: bar chart of received and refunded amounts; the table below has the figures.`,
  });
  const download = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          await busy(
            download,
            () => downloadCsv(report.path, filters, report.file),
            "Preparing CSV…",
          );
        } catch (error) {
          showError(errors, error);
        }
      },
    },
    `Download CSV: ${report.title}`,
  );
  const rows = data.rows || [];
  clear(
    slot,
    h("div", { class: "chart" }, canvas),
    download,
    h(
      "details",
      {},
      h("summary", {}, "Figures"),
      table(
        [
          { label: "Row", value: report.label },
          { label: "Bookings", value: (r) => r.bookings, class: "num" },
          {
            label: "Received",
            value: (r) => money(r.received, r.currency),
            class: "num",
          },
          {
            label: "Refunded",
            value: (r) => money(r.refunded, r.currency),
            class: "num",
          },
          { label: "Net", value: (r) => money(r.net, r.currency), class: "num" },
        ],
        rows,
        report.title,
      ),
    ),
  );
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map(report.label),
      datasets: [
        {
          label: "Received",
          data: rows.map((r) => Number(r.received)),
          backgroundColor: "#1d5fa8",
        },
        {
          label: "Refunded",
          data: rows.map((r) => Number(r.refunded)),
          backgroundColor: "#b3541e",
        },
      ],
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false },
  });
}

export const financeRoutes = [
  ["/invoices", invoicesView],
  ["/payments", paymentsView],
  ["/refunds", refundsView],
  ["/reports", reportsView],
];
