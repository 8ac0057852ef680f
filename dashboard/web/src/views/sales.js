// Sales (and finance, admin): customers, their profile, booking for a customer,
// booking detail with payments and cancellation, the enquiry board and threads.

import { get, idempotency, patch, post } from "../api.js";
import { BOOKING_STATUSES, ENQUIRY_BOARD, PAYMENT_METHODS } from "../config.js";
import {
  announce,
  badge,
  busy,
  clear,
  field,
  formValues,
  h,
  heading,
  labelled,
  link,
  listView,
  money,
  showError,
  table,
  when,
} from "../ui.js";
import { packageColumns } from "./operation.js";

const bookingColumns = [
  { label: "Reference", value: (b) => link(`/bookings/${b.id}`, b.reference) },
  {
    label: "Package or ride",
    value: (b) =>
      b.kind === "trip"
        ? `${b.trip?.route_code}: ${b.from?.code} → ${b.to?.code}`
        : b.package_title,
  },
  {
    label: "Starts",
    value: (b) => (b.kind === "trip" ? b.trip?.service_date : b.start_date),
  },
  { label: "Seats", value: (b) => b.seats, class: "num" },
  { label: "Total", value: (b) => money(b.total_amount, b.currency), class: "num" },
  { label: "Due", value: (b) => money(b.amount_due, b.currency), class: "num" },
  { label: "Status", value: (b) => badge(b.status) },
];

function registerCustomer() {
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const customer = await busy(form.querySelector("button"), () =>
            post("/customers", formValues(form)),
          );
          announce(`Customer ${customer.name} registered.`);
          location.hash = `#/customers/${customer.id}`;
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    h("h2", {}, "Register a customer"),
    errors,
    field("Name", "name", { required: true }),
    field("Email", "email", { type: "email", required: true }),
    field("Phone", "phone", {}),
    field("Address", "address", {}),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, "Register customer"),
    ),
  );
  return form;
}

async function customersView(main, { me }) {
  clear(
    main,
    heading("Customers"),
    listView({
      path: "/customers",
      caption: "Customers",
      search: "Search name, email or phone",
      filters: [
        {
          label: "Active",
          name: "active",
          options: [
            ["", "Any"],
            ["true", "Active"],
            ["false", "Inactive"],
          ],
        },
      ],
      columns: [
        { label: "Name", value: (c) => link(`/customers/${c.id}`, c.name) },
        { label: "Email", value: (c) => c.email },
        { label: "Phone", value: (c) => c.phone || "" },
        { label: "Wallet", value: (c) => c.wallet_balance ?? "", class: "num" },
        { label: "Active", value: (c) => (c.active ? "yes" : "no") },
      ],
    }),
    ["sales", "admin"].includes(me.role) ? registerCustomer() : null,
  );
}

async function customerView(main, { id, me, rerender }) {
  const customer = await get(`/customers/${id}`);
  // The wallet ledger is for finance and admin (the API's rule); others see the balance.
  const wallet = ["finance", "admin"].includes(me.role)
    ? await get(`/customers/${id}/wallet`, { per_page: 10 })
    : { balance: customer.wallet_balance, currency: null, entries: null };
  const canBook = ["sales", "admin"].includes(me.role);
  const sections = [
    heading(customer.name),
    h(
      "p",
      {},
      `${customer.email}${customer.phone ? ` · ${customer.phone}` : ""}${customer.address ? ` · ${customer.address}` : ""}`,
    ),
    canBook
      ? h(
          "p",
          {},
          link(`/book?customer_id=${id}`, "Book a trip for this customer", {
            class: "button primary",
          }),
        )
      : null,
    h("h2", {}, "Bookings"),
    listView({
      path: "/bookings",
      initial: { customer_id: id },
      caption: "Bookings",
      perPage: 10,
      filters: [
        {
          label: "Status",
          name: "status",
          options: [["", "Any"], ...BOOKING_STATUSES],
        },
      ],
      columns: bookingColumns,
    }),
    h("h2", {}, `Wallet: ${money(wallet.balance, wallet.currency)}`),
    wallet.entries &&
      table(
        [
          { label: "When", value: (e) => when(e.created_at) },
          { label: "Kind", value: (e) => e.kind.replaceAll("_", " ") },
          { label: "Amount", value: (e) => money(e.amount, e.currency), class: "num" },
          {
            label: "Balance after",
            value: (e) => money(e.balance_after, e.currency),
            class: "num",
          },
          { label: "Reason", value: (e) => e.reason || "" },
        ],
        wallet.entries || [],
        "Wallet entries",
      ),
    ["finance", "admin"].includes(me.role) ? walletAdjustment(id, rerender) : null,
  ];
  if (["sales", "admin"].includes(me.role)) {
    sections.push(
      h("h2", {}, "Enquiries"),
      listView({
        path: "/enquiries",
        initial: { customer_id: id },
        caption: "Enquiries",
        perPage: 10,
        columns: enquiryColumns,
      }),
    );
  }
  clear(main, ...sections);
}

function walletAdjustment(customerId, onDone) {
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await busy(form.querySelector("button"), () =>
            post(`/customers/${customerId}/wallet`, formValues(form)),
          );
          announce("Wallet adjusted.");
          onDone();
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    h("h3", {}, "Adjust the wallet"),
    errors,
    field("Amount (negative to debit)", "amount", {
      inputmode: "decimal",
      required: true,
    }),
    field("Reason", "reason", { required: true }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, "Record adjustment"),
    ),
  );
  return form;
}

async function catalogueView(main) {
  clear(
    main,
    heading("Catalogue"),
    h("p", {}, "Published packages that can be booked."),
    listView({
      path: "/packages",
      caption: "Published packages",
      search: "Search title or destination",
      initial: { status: "published" },
      filters: [
        { label: "Destination", name: "destination" },
        { label: "Starts after", name: "starts_after", type: "date" },
        { label: "Max price", name: "max_price" },
      ],
      columns: packageColumns,
    }),
  );
}

async function bookView(main, { query }) {
  const customer = await get(`/customers/${query.customer_id}`);
  const packages = (
    await get("/packages", { status: "published", per_page: 100, sort: "title" }).catch(
      () => get("/packages", { status: "published", per_page: 100 }),
    )
  ).items;
  const errors = h("div");
  const departureSelect = h(
    "select",
    { name: "departure_id", required: true, disabled: true },
    h("option", { value: "" }, "Choose a package first"),
  );
  const packageSelect = h(
    "select",
    {
      name: "package",
      required: true,
      onchange: async () => {
        clear(departureSelect, h("option", { value: "" }, "Loading…"));
        const deps = packageSelect.value
          ? (
              await get(`/packages/${packageSelect.value}/departures`, {
                per_page: 100,
              })
            ).items
          : [];
        const open = deps.filter((d) => d.status !== "cancelled");
        clear(
          departureSelect,
          h(
            "option",
            { value: "" },
            open.length ? "Choose a departure" : "No departures",
          ),
          open.map((d) =>
            h(
              "option",
              { value: d.id },
              `${d.start_date} → ${d.end_date} · ${d.seats_left} seats left · ${money(d.price, d.currency)}`,
            ),
          ),
        );
        departureSelect.disabled = !open.length;
      },
    },
    h("option", { value: "" }, "Choose a package"),
    packages.map((p) => h("option", { value: p.id }, `${p.title} (${p.destination})`)),
  );
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const v = formValues(form);
        const body = {
          customer_id: Number(query.customer_id),
          departure_id: Number(v.departure_id || 0),
          seats: Number(v.seats || 0),
        };
        try {
          const booking = await busy(
            form.querySelector("button[type=submit]"),
            () => post("/bookings", body, idempotency()),
            "Booking…",
          );
          announce(`Booking ${booking.reference} made.`);
          location.hash = `#/bookings/${booking.id}`;
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    errors,
    labelled("Package", packageSelect),
    labelled("Departure", departureSelect),
    field("Seats", "seats", { type: "number", min: 1, value: 1, required: true }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Book and hold the seats"),
      link(`/customers/${customer.id}`, "Cancel"),
    ),
  );
  clear(main, heading(`Book for ${customer.name}`), form);
}

async function bookingView(main, { id, me, rerender }) {
  const booking = await get(`/bookings/${id}`);
  const invoice =
    booking.invoice_id && ["finance", "admin"].includes(me.role)
      ? await get(`/invoices/${booking.invoice_id}`)
      : null;
  const customer = ["sales", "finance", "admin"].includes(me.role)
    ? await get(`/customers/${booking.customer_id}`)
    : null;
  const errors = h("div");
  clear(
    main,
    heading(`Booking ${booking.reference}`),
    h(
      "p",
      {},
      badge(booking.status),
      ` ${booking.package_title} · starts ${booking.start_date} · ${booking.seats} seat(s) · customer `,
      link(
        `/customers/${booking.customer_id}`,
        customer?.name || `#${booking.customer_id}`,
      ),
    ),
    h(
      "dl",
      { class: "stats" },
      stat("Total", money(booking.total_amount, booking.currency)),
      stat("Paid", money(booking.amount_paid, booking.currency)),
      stat("Due", money(booking.amount_due, booking.currency)),
      booking.hold_expires_at
        ? stat("Hold expires", when(booking.hold_expires_at))
        : null,
    ),
    invoice
      ? h(
          "p",
          { class: "invoice-line" },
          `Invoice ${invoice.number}: `,
          badge(invoice.status),
          ` · balance due ${money(invoice.balance_due, invoice.currency)} by ${invoice.due_date}`,
        )
      : null,
    errors,
    ["finance", "admin"].includes(me.role) &&
      Number(booking.amount_due) > 0 &&
      ["held", "confirmed"].includes(booking.status)
      ? paymentForm(booking, rerender)
      : null,
    ["sales", "admin"].includes(me.role) &&
      ["held", "confirmed"].includes(booking.status)
      ? cancelBooking(booking, rerender)
      : null,
    invoice?.payments?.length
      ? [h("h2", {}, "Payments"), table(paymentColumns, invoice.payments, "Payments")]
      : null,
  );
}

export const paymentColumns = [
  { label: "When", value: (p) => when(p.created_at) },
  {
    label: "Booking",
    value: (p) => link(`/bookings/${p.booking_id}`, `#${p.booking_id}`),
  },
  { label: "Amount", value: (p) => money(p.amount, p.currency), class: "num" },
  { label: "Method", value: (p) => p.method.replace("_", " ") },
  { label: "Reference", value: (p) => p.reference || "" },
];

const stat = (label, value) =>
  h("div", {}, h("dt", {}, label), h("dd", {}, String(value)));

function paymentForm(booking, onDone) {
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await busy(
            form.querySelector("button"),
            () =>
              post(`/bookings/${booking.id}/payments`, formValues(form), idempotency()),
            "Recording…",
          );
          announce("Payment recorded.");
          onDone();
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    h("h2", {}, "Record a payment received"),
    errors,
    field("Amount", "amount", {
      inputmode: "decimal",
      value: booking.amount_due,
      required: true,
    }),
    field("Method", "method", {
      options: PAYMENT_METHODS.filter((m) => m !== "card"),
      value: "bank_transfer",
    }),
    field("Reference", "reference", {}),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Record payment"),
    ),
  );
  return form;
}

function cancelBooking(booking, onDone) {
  const errors = h("div");
  const slot = h("div", { "aria-live": "polite" });
  const quoteButton = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          const quote = await busy(quoteButton, () =>
            get(`/bookings/${booking.id}/cancellation-quote`),
          );
          const form = h(
            "form",
            {
              class: "inline-form",
              onsubmit: async (event) => {
                event.preventDefault();
                try {
                  await busy(
                    form.querySelector("button"),
                    () =>
                      post(
                        `/bookings/${booking.id}/cancel`,
                        formValues(form),
                        idempotency(),
                      ),
                    "Cancelling…",
                  );
                  announce("Booking cancelled.");
                  onDone();
                } catch (error) {
                  showError(errors, error, form);
                }
              },
            },
            field("Refund to", "refund_to", { options: ["wallet", "original"] }),
            field("Reason", "reason", {}),
            h("button", { type: "submit", class: "danger" }, "Cancel the booking"),
          );
          clear(
            slot,
            h(
              "p",
              {},
              quote.cancellable
                ? `Penalty ${quote.penalty_percent} % (${money(quote.penalty_amount, quote.currency)}), refund ${money(quote.refund_amount, quote.currency)}.`
                : "This booking can no longer be cancelled.",
            ),
            quote.cancellable ? form : null,
          );
        } catch (error) {
          showError(errors, error);
        }
      },
    },
    "Cancellation quote…",
  );
  return h("section", {}, h("h2", {}, "Cancel"), errors, quoteButton, slot);
}

const enquiryColumns = [
  { label: "Subject", value: (e) => link(`/enquiries/${e.id}`, e.subject) },
  { label: "Stage", value: (e) => badge(e[ENQUIRY_BOARD.field]) },
  { label: "Created", value: (e) => when(e.created_at) },
];

async function enquiriesView(main, { me, query }) {
  const board = h("div", { class: "board" });
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter the board",
      onsubmit: (e) => {
        e.preventDefault();
        load();
      },
    },
    field("Search the board", "q", { type: "search", value: query.q }),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "mine" }),
      " Only mine",
    ),
    h("button", { type: "submit" }, "Show on the board"),
  );
  async function load() {
    const v = formValues(form);
    clear(board, h("p", { class: "loading" }, "Loading…"));
    const columns = await Promise.all(
      ENQUIRY_BOARD.columns.map((column) =>
        get("/enquiries", {
          [ENQUIRY_BOARD.filter]: column,
          q: v.q,
          assigned_to: v.mine ? me.profile.id : undefined,
          per_page: 15,
        }),
      ),
    );
    clear(
      board,
      ENQUIRY_BOARD.columns.map((column, i) =>
        h(
          "section",
          { class: "column", "aria-labelledby": `col-${column}` },
          h(
            "h2",
            { id: `col-${column}` },
            `${column.replaceAll("_", " ")} (${columns[i].meta.total})`,
          ),
          h(
            "ul",
            {},
            columns[i].items.map((e) =>
              h(
                "li",
                { class: "card" },
                link(`/enquiries/${e.id}`, e.subject),
                h("small", {}, ` ${when(e.created_at)}`),
              ),
            ),
          ),
        ),
      ),
    );
  }
  const all = listView({
    path: "/enquiries",
    caption: "All enquiries",
    search: "Search subject or message",
    perPage: 20,
    filters: [
      {
        label: "Stage",
        name: ENQUIRY_BOARD.filter,
        options: [["", "Any"], ...ENQUIRY_BOARD.columns],
      },
    ],
    columns: enquiryColumns,
  });
  clear(main, heading("Enquiries"), form, board, h("h2", {}, "All enquiries"), all);
  await load();
}

async function enquiryView(main, { id, me, rerender }) {
  const enquiry = await get(`/enquiries/${id}`);
  const notes =
    enquiry.notes || (await get(`/enquiries/${id}/notes`, { per_page: 100 })).items;
  const errors = h("div");
  const move = h(
    "form",
    {
      class: "inline-form",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await busy(move.querySelector("button"), () =>
            patch(`/enquiries/${id}`, {
              [ENQUIRY_BOARD.field]: formValues(move)[ENQUIRY_BOARD.field],
            }),
          );
          announce("Enquiry moved.");
          rerender();
        } catch (error) {
          showError(errors, error, move);
        }
      },
    },
    field("Stage", ENQUIRY_BOARD.field, {
      options: ENQUIRY_BOARD.columns,
      value: enquiry[ENQUIRY_BOARD.field],
    }),
    h("button", { type: "submit" }, "Move"),
  );
  const assign = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          await busy(assign, () =>
            patch(`/enquiries/${id}`, { assigned_to_id: me.profile.id }),
          );
          announce("Enquiry assigned to you.");
          rerender();
        } catch (error) {
          showError(errors, error);
        }
      },
    },
    "Assign to me",
  );
  const note = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await busy(note.querySelector("button"), () =>
            post(`/enquiries/${id}/notes`, formValues(note)),
          );
          rerender();
        } catch (error) {
          showError(errors, error, note);
        }
      },
    },
    field("Add a note", "body", { type: "textarea", required: true }),
    h("button", { type: "submit" }, "Add note"),
  );
  clear(
    main,
    heading(enquiry.subject),
    h(
      "p",
      {},
      badge(enquiry[ENQUIRY_BOARD.field]),
      " customer ",
      link(`/customers/${enquiry.customer_id}`, `#${enquiry.customer_id}`),
      ` · created ${when(enquiry.created_at)}`,
    ),
    h("blockquote", {}, enquiry.message),
    errors,
    h(
      "div",
      { class: "actions" },
      move,
      enquiry.assigned_to_id === me.profile.id
        ? h("span", {}, "Assigned to you")
        : assign,
    ),
    h("h2", {}, "Notes"),
    h(
      "ol",
      { class: "thread" },
      notes.map((n) =>
        h(
          "li",
          { class: `note note-${n.author_type}` },
          h("strong", {}, n.author_name || n.author_type),
          h("small", {}, ` ${when(n.created_at)}`),
          h("p", {}, n.body),
        ),
      ),
    ),
    note,
  );
}

export const salesRoutes = [
  ["/customers", customersView],
  ["/customers/:id", customerView],
  ["/catalogue", catalogueView],
  ["/book", bookView],
  ["/bookings/:id", bookingView],
  ["/enquiries", enquiriesView],
  ["/enquiries/:id", enquiryView],
];
