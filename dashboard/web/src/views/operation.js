// Operation and operation head: packages, itinerary, departures, approval queue,
// occupancy and manifest, departure cancellation with its refund preview.

import { get, patch, post } from "../api.js";
import { PACKAGE_STATUSES, TRANSPORT_MODES } from "../config.js";
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

const days = (n) => `${n} day${n === 1 ? "" : "s"}`;

const packageColumns = [
  { label: "Title", value: (p) => link(`/packages/${p.id}`, p.title) },
  { label: "Destination", value: (p) => p.destination },
  { label: "Days", value: (p) => p.duration_days, class: "num" },
  { label: "Base price", value: (p) => money(p.base_price, p.currency), class: "num" },
  { label: "Status", value: (p) => badge(p.status) },
  { label: "Updated", value: (p) => when(p.updated_at) },
];

async function packagesView(main, { query }) {
  clear(
    main,
    heading("Packages"),
    h("p", {}, link("/packages/new", "Create a package", { class: "button primary" })),
    listView({
      path: "/packages",
      caption: "Packages",
      search: "Search title or destination",
      initial: { status: query.status || "" },
      filters: [
        {
          label: "Status",
          name: "status",
          options: [["", "Any"], ...PACKAGE_STATUSES],
        },
        { label: "Destination", name: "destination" },
      ],
      columns: packageColumns,
    }),
  );
}

/** Itinerary editor: one fieldset per day; names match the API's error paths. */
function itineraryEditor(days) {
  const list = h("ol", { class: "itinerary-editor" });
  const renumber = () =>
    [...list.children].forEach((li, i) => {
      li.querySelector("legend").textContent = `Day ${i + 1}`;
      li.querySelectorAll("[data-key]").forEach((el) => {
        el.name = `itinerary.${i}.${el.dataset.key}`;
      });
    });
  const addDay = (day = {}) => {
    const item = h(
      "li",
      {},
      h(
        "fieldset",
        {},
        h("legend", {}, "Day"),
        field("Day title", "", { value: day.title, dataset: { key: "title" } }),
        field("Location", "", { value: day.location, dataset: { key: "location" } }),
        field("Description", "", {
          type: "textarea",
          value: day.description,
          dataset: { key: "description" },
        }),
        h(
          "button",
          {
            type: "button",
            class: "link-button",
            onclick: () => {
              item.remove();
              renumber();
            },
          },
          "Remove this day",
        ),
      ),
    );
    list.append(item);
    renumber();
  };
  (days.length ? days : [{}]).forEach(addDay);
  return h(
    "section",
    { class: "itinerary" },
    h("h2", {}, "Itinerary"),
    list,
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          addDay();
          list.lastChild.querySelector("input").focus();
        },
      },
      "Add a day",
    ),
  );
}

function packageBody(form) {
  const v = formValues(form);
  const body = {};
  for (const key of [
    "title",
    "destination",
    "origin",
    "transport_mode",
    "base_price",
    "description",
  ])
    if (key in v) body[key] = v[key];
  for (const key of ["duration_days", "deposit_percent"])
    if (key in v) body[key] = Number(v[key]);
  body.itinerary = [...form.querySelectorAll(".itinerary-editor > li")].map((li, i) => {
    const day = { day_number: i + 1 };
    li.querySelectorAll("[data-key]").forEach((el) => {
      if (el.value.trim()) day[el.dataset.key] = el.value.trim();
    });
    return day;
  });
  return body;
}

async function packageFormView(main, { id }) {
  const pkg = id
    ? await get(`/packages/${id}`)
    : { itinerary: [], transport_mode: "flight" };
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        clear(errors);
        try {
          const saved = await busy(form.querySelector("button[type=submit]"), () =>
            id
              ? patch(`/packages/${id}`, packageBody(form))
              : post("/packages", packageBody(form)),
          );
          announce(
            `Package “${saved.title}” saved as ${saved.status.replace("_", " ")}.`,
          );
          location.hash = `#/packages/${saved.id}`;
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    errors,
    field("Title", "title", { value: pkg.title, required: true }),
    field("Destination", "destination", { value: pkg.destination, required: true }),
    field("Origin", "origin", { value: pkg.origin }),
    field("Transport", "transport_mode", {
      options: TRANSPORT_MODES,
      value: pkg.transport_mode,
    }),
    field("Duration (days)", "duration_days", {
      type: "number",
      min: 1,
      value: pkg.duration_days,
      required: true,
    }),
    field("Base price", "base_price", {
      inputmode: "decimal",
      value: pkg.base_price,
      required: true,
    }),
    field("Deposit (%)", "deposit_percent", {
      type: "number",
      min: 0,
      max: 100,
      value: pkg.deposit_percent,
    }),
    field("Description", "description", { type: "textarea", value: pkg.description }),
    itineraryEditor(pkg.itinerary || []),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { type: "submit", class: "primary" },
        id ? "Save changes" : "Create package",
      ),
      link(id ? `/packages/${id}` : "/packages", "Cancel"),
    ),
  );
  clear(main, heading(id ? `Edit ${pkg.title}` : "New package"), form);
}

/** Approve / reject controls, absent on your own revision (maker-checker). */
function reviewControls(pkg, me, onDone) {
  const mine = [pkg.created_by_id, pkg.last_edited_by_id].includes(me.profile.id);
  if (
    !["operation_head", "admin"].includes(me.role) ||
    pkg.status !== "pending_approval"
  )
    return null;
  if (mine) {
    return h(
      "p",
      { class: "notice" },
      "You created or last edited this revision, so you cannot approve or reject it: another operation head must review it (maker-checker).",
    );
  }
  const errors = h("div");
  const rejectForm = h(
    "form",
    {
      class: "inline-form",
      hidden: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await busy(rejectForm.querySelector("button"), () =>
            post(`/packages/${pkg.id}/reject`, {
              reason: formValues(rejectForm).reason || "",
            }),
          );
          announce(`“${pkg.title}” rejected.`);
          onDone();
        } catch (error) {
          showError(errors, error, rejectForm);
        }
      },
    },
    field("Reason for rejecting", "reason", { type: "textarea", required: true }),
    h("button", { type: "submit", class: "danger" }, "Reject with this reason"),
  );
  const approve = h(
    "button",
    {
      type: "button",
      class: "primary",
      onclick: async () => {
        try {
          await busy(approve, () => post(`/packages/${pkg.id}/approve`));
          announce(`“${pkg.title}” approved and published.`);
          onDone();
        } catch (error) {
          showError(errors, error);
          // Refused by maker-checker: this reviewer may not act on the revision at all.
          if (error.status === 403)
            controls.querySelectorAll("button").forEach((b) => b.remove());
        }
      },
    },
    `Approve ${pkg.title}`,
  );
  const controls = h(
    "div",
    { class: "review" },
    errors,
    approve,
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          rejectForm.hidden = false;
          rejectForm.querySelector("textarea").focus();
        },
      },
      "Reject…",
    ),
    rejectForm,
  );
  return controls;
}

/** Create a departure of `pkg`, or edit `dep` (PATCH: prices replace the whole set). */
function departureForm(pkg, onDone, dep = null) {
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const v = formValues(form);
        const body = {
          start_date: v.start_date,
          end_date: v.end_date,
          capacity: Number(v.capacity || 0),
        };
        if (v.price) {
          body.price = v.price;
          body.prices = {
            adult: v.price,
            ...(v["prices.child"] ? { child: v["prices.child"] } : {}),
          };
        }
        if (v.booking_cutoff) body.booking_cutoff = `${v.booking_cutoff}:00+00:00`;
        try {
          await busy(form.querySelector("button"), () =>
            dep
              ? patch(`/departures/${dep.id}`, body)
              : post(`/packages/${pkg.id}/departures`, body),
          );
          announce(dep ? "Departure saved." : "Departure added.");
          onDone();
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    h("h3", {}, dep ? "Edit this departure" : "Add a departure"),
    errors,
    field("Start date", "start_date", {
      type: "date",
      required: true,
      value: dep?.start_date,
    }),
    field("End date", "end_date", {
      type: "date",
      required: true,
      value: dep?.end_date,
    }),
    field("Capacity (seats)", "capacity", {
      type: "number",
      min: 1,
      required: true,
      value: dep?.capacity,
    }),
    field("Adult price", "price", {
      inputmode: "decimal",
      value: dep?.price ?? pkg.base_price,
    }),
    field("Child price", "prices.child", {
      inputmode: "decimal",
      value: dep?.prices?.child,
    }),
    field("Booking cutoff (UTC)", "booking_cutoff", {
      type: "datetime-local",
      value: dep?.booking_cutoff ? dep.booking_cutoff.slice(0, 16) : "",
    }),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { type: "submit", class: "primary" },
        dep ? "Save departure" : "Add departure",
      ),
    ),
  );
  return form;
}

async function packageDetailView(main, { id, me, rerender }) {
  const pkg = await get(`/packages/${id}`);
  const departures = await get(`/packages/${id}/departures`, { per_page: 100 });
  const canEdit = ["operation", "operation_head", "admin"].includes(me.role);
  const errors = h("div");
  const submit = h(
    "button",
    {
      type: "button",
      class: "primary",
      onclick: async () => {
        try {
          await busy(submit, () => post(`/packages/${id}/submit`));
          announce("Submitted for approval.");
          rerender();
        } catch (error) {
          showError(errors, error);
        }
      },
    },
    "Submit for approval",
  );
  clear(
    main,
    heading(pkg.title),
    h(
      "p",
      {},
      badge(pkg.status),
      ` ${pkg.destination}${pkg.origin ? ` from ${pkg.origin}` : ""} · ${days(pkg.duration_days)} · ${money(pkg.base_price, pkg.currency)} · deposit ${pkg.deposit_percent ?? 0} %`,
    ),
    pkg.rejection_reason
      ? h("p", { class: "notice" }, `Rejected: ${pkg.rejection_reason}`)
      : null,
    errors,
    h(
      "div",
      { class: "actions" },
      canEdit && pkg.status !== "archived"
        ? link(`/packages/${id}/edit`, "Edit package", { class: "button" })
        : null,
      canEdit && ["draft", "rejected"].includes(pkg.status) ? submit : null,
    ),
    reviewControls(pkg, me, rerender),
    pkg.description ? h("p", {}, pkg.description) : null,
    h("h2", {}, "Itinerary"),
    h(
      "ol",
      { class: "itinerary-view" },
      (pkg.itinerary || []).map((d) =>
        h(
          "li",
          {},
          h("strong", {}, `Day ${d.day_number}: ${d.title}`),
          d.location ? ` (${d.location})` : "",
          d.description ? h("p", {}, d.description) : null,
        ),
      ),
    ),
    h("h2", {}, "Departures"),
    table(
      [
        {
          label: "Dates",
          value: (d) => link(`/departures/${d.id}`, `${d.start_date} → ${d.end_date}`),
        },
        { label: "Capacity", value: (d) => d.capacity, class: "num" },
        { label: "Taken", value: (d) => d.seats_taken, class: "num" },
        { label: "Left", value: (d) => d.seats_left, class: "num" },
        {
          label: "Prices",
          value: (d) =>
            Object.entries(d.prices || { adult: d.price })
              .map(([c, p]) => `${c} ${money(p, d.currency)}`)
              .join(", "),
        },
        { label: "Cutoff", value: (d) => when(d.booking_cutoff) || "at start" },
        { label: "Status", value: (d) => badge(d.status) },
      ],
      departures.items,
      "Departures",
    ),
    canEdit && pkg.status !== "archived" ? departureForm(pkg, rerender) : null,
  );
}

async function approvalsView(main, { me, rerender }) {
  const data = await get("/packages", { status: "pending_approval", per_page: 50 });
  clear(
    main,
    heading("Approval queue"),
    h(
      "p",
      {},
      `${data.meta.total} package revision(s) waiting. You cannot approve a revision you created or last edited.`,
    ),
    data.items.length
      ? null
      : h("p", { class: "empty" }, "Nothing waiting for approval."),
    data.items.map((pkg) =>
      h(
        "article",
        { class: "card" },
        h("h2", {}, link(`/packages/${pkg.id}`, pkg.title)),
        h(
          "p",
          {},
          `${pkg.destination} · ${days(pkg.duration_days)} · ${money(pkg.base_price, pkg.currency)} · submitted ${when(pkg.submitted_at)}`,
        ),
        reviewControls(pkg, me, rerender),
      ),
    ),
  );
}

async function departureView(main, { id, me, rerender }) {
  const dep = await get(`/departures/${id}`);
  const pkg = await get(`/packages/${dep.package_id}`);
  const bookings = (await get("/bookings", { departure_id: id, per_page: 100 })).items;
  const held = bookings
    .filter((b) => b.status === "held")
    .reduce((n, b) => n + b.seats, 0);
  const confirmed = bookings.filter(
    (b) => b.status === "confirmed" || b.status === "completed",
  );
  const live = bookings.filter((b) =>
    ["held", "confirmed", "completed"].includes(b.status),
  );
  const travellers = live.flatMap((b) =>
    (b.travellers?.length
      ? b.travellers
      : [{ name: "(names not given)", category: `${b.seats} seat(s)` }]
    ).map((t) => ({ ...t, booking: b })),
  );
  const cancelSlot = h("div");
  clear(
    main,
    heading(`${pkg.title}: ${dep.start_date} → ${dep.end_date}`),
    h(
      "p",
      {},
      badge(dep.status),
      " ",
      link(`/packages/${pkg.id}`, "Back to the package"),
    ),
    h(
      "dl",
      { class: "stats" },
      stat("Capacity", dep.capacity),
      stat("Taken", dep.seats_taken),
      stat("Held", held),
      stat(
        "Confirmed seats",
        confirmed.reduce((n, b) => n + b.seats, 0),
      ),
      stat("Left", dep.seats_left),
    ),
    h(
      "section",
      { class: "manifest", "aria-labelledby": "manifest-title" },
      h(
        "h2",
        { id: "manifest-title" },
        `Traveller manifest: ${pkg.title}, ${dep.start_date}`,
      ),
      h(
        "button",
        { type: "button", class: "no-print", onclick: () => window.print() },
        "Print manifest",
      ),
      table(
        [
          { label: "Booking", value: (t) => t.booking.reference },
          { label: "Status", value: (t) => t.booking.status },
          { label: "Traveller", value: (t) => t.name },
          { label: "Category", value: (t) => t.category || "" },
          { label: "Birth date", value: (t) => t.birth_date || "" },
        ],
        travellers,
        "Travellers",
      ),
    ),
    dep.status !== "cancelled" &&
      ["operation", "operation_head", "admin"].includes(me.role)
      ? h("div", { class: "no-print" }, departureForm(pkg, rerender, dep))
      : null,
    dep.status !== "cancelled"
      ? h(
          "section",
          { class: "no-print" },
          h("h2", {}, "Cancel this departure"),
          cancelSlot,
        )
      : null,
  );
  if (dep.status !== "cancelled") cancelForm(dep, cancelSlot);
}

const stat = (label, value) =>
  h("div", {}, h("dt", {}, label), h("dd", {}, String(value)));

function cancelForm(dep, slot) {
  const errors = h("div");
  const preview = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { ...formValues(form), preview: true };
        try {
          const quote = await busy(
            form.querySelector("button"),
            () => post(`/departures/${dep.id}/cancel`, body),
            "Computing refunds…",
          );
          const confirm = h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: async () => {
                try {
                  await busy(
                    confirm,
                    () =>
                      post(`/departures/${dep.id}/cancel`, { ...body, preview: false }),
                    "Cancelling…",
                  );
                  announce("Departure cancelled; bookings refunded.");
                  location.reload();
                } catch (error) {
                  showError(errors, error, form);
                }
              },
            },
            "Cancel the departure and refund",
          );
          clear(
            preview,
            h(
              "h3",
              {},
              `Refund preview: ${money(quote.total_refund, quote.currency)} in all`,
            ),
            table(
              [
                { label: "Booking", value: (l) => l.reference },
                { label: "Status", value: (l) => l.status },
                {
                  label: "Refund",
                  value: (l) => money(l.refund_amount, quote.currency),
                  class: "num",
                },
                { label: "To", value: (l) => l.refund_to },
              ],
              quote.bookings,
              "Refunds that cancelling would make",
            ),
            confirm,
          );
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    errors,
    field("Reason", "reason", { type: "textarea", required: true }),
    field("Refund to", "refund_to", { options: ["wallet", "original"] }),
    h("button", { type: "submit" }, "Preview refunds"),
  );
  clear(slot, form, preview);
}

export { packageColumns };
export const operationRoutes = [
  ["/packages", packagesView],
  ["/packages/new", packageFormView],
  ["/packages/:id", packageDetailView],
  ["/packages/:id/edit", packageFormView],
  ["/approvals", approvalsView],
  ["/departures/:id", departureView],
];
