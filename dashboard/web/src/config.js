// Settings the lead may change in one place.

/**
 * The enquiry board: which enquiry field holds its column (PATCH body and list
 * filter) and the columns in order: the pipeline's stages (docs/design.md
 * "Lifecycles": enquiry). `won` is reached by linking a booking or accepting a
 * quote and `lost` needs a lost reason, so the API refuses a bare move there and
 * the board shows its answer.
 */
export const ENQUIRY_BOARD = {
  field: "stage",
  filter: "stage",
  columns: ["new", "contacted", "quoted", "on_hold", "won", "lost"],
};

/** Hours a new enquiry may wait for a first answer before the home view counts it
 * as overdue (the server's ENQUIRY_FIRST_RESPONSE_HOURS default). */
export const ENQUIRY_RESPONSE_HOURS = 24;

/** Package statuses (docs/design.md "Lifecycles"). */
export const PACKAGE_STATUSES = [
  "draft",
  "pending_approval",
  "published",
  "rejected",
  "archived",
];
export const INVOICE_STATUSES = ["pending", "overdue", "paid", "void"];
export const BOOKING_STATUSES = [
  "held",
  "confirmed",
  "completed",
  "cancelled",
  "expired",
];
export const ROLES = [
  "admin",
  "hr",
  "sales",
  "operation",
  "operation_head",
  "finance",
  "operator",
];
export const PAYMENT_METHODS = ["bank_transfer", "cash", "card", "wallet"];
export const TRANSPORT_MODES = ["flight", "train", "bus", "none"];

/** Navigation per role: [hash route, label]. */
export const NAV = {
  // A transport company's own employee: the transport API has no dashboard view
  // yet, so home only (not hr's links, which it may not open).
  operator: [["/", "Home"]],
  operation: [
    ["/", "Home"],
    ["/packages", "Packages"],
    ["/packages/new", "New package"],
  ],
  operation_head: [
    ["/", "Home"],
    ["/packages", "Packages"],
    ["/approvals", "Approval queue"],
    ["/packages/new", "New package"],
    ["/reports", "Reports"],
  ],
  sales: [
    ["/", "Home"],
    ["/customers", "Customers"],
    ["/enquiries", "Enquiries"],
    ["/catalogue", "Catalogue"],
  ],
  finance: [
    ["/", "Home"],
    ["/invoices", "Invoices"],
    ["/payments", "Payments"],
    ["/refunds", "Refunds"],
    ["/customers", "Customers"],
    ["/reports", "Reports"],
  ],
  admin: [
    ["/", "Home"],
    ["/employees", "Employees"],
    ["/audit", "Audit log"],
    ["/packages", "Packages"],
    ["/approvals", "Approvals"],
    ["/customers", "Customers"],
    ["/enquiries", "Enquiries"],
    ["/invoices", "Invoices"],
    ["/reports", "Reports"],
  ],
  hr: [
    ["/", "Home"],
    ["/employees", "Employees"],
  ],
};
