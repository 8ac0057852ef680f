// Entry point: sign-in, layout, navigation per role and the hash router.

import "./style.css";
import { currentSession, login, logout } from "./api.js";
import { NAV } from "./config.js";
import { busy, clear, field, formValues, h, heading, showError } from "./ui.js";
import { homeView } from "./views/home.js";
import { operationRoutes } from "./views/operation.js";
import { salesRoutes } from "./views/sales.js";
import { financeRoutes } from "./views/finance.js";
import { adminRoutes } from "./views/admin.js";

const app = document.getElementById("app");
const ROUTES = [
  ["/", homeView],
  ...operationRoutes,
  ...salesRoutes,
  ...financeRoutes,
  ...adminRoutes,
];

function match(path) {
  for (const [pattern, view] of ROUTES) {
    const names = [];
    const regex = new RegExp(
      `^${pattern.replace(/:(\w+)/g, (_, n) => {
        names.push(n);
        return "([^/]+)";
      })}$`,
    );
    const found = path.match(regex);
    if (found)
      return [
        view,
        Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1])])),
      ];
  }
  return null;
}

function loginView() {
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "card login",
      onsubmit: async (event) => {
        event.preventDefault();
        const { email, password } = formValues(form);
        try {
          await busy(
            form.querySelector("button"),
            () => login(email || "", password || ""),
            "Signing in…",
          );
          render();
        } catch (error) {
          showError(errors, error, form);
        }
      },
    },
    h("h1", {}, "Easy Travels staff dashboard"),
    h("p", {}, "Sign in with your employee account."),
    errors,
    field("Email", "email", {
      type: "email",
      required: true,
      autocomplete: "username",
    }),
    field("Password", "password", {
      type: "password",
      required: true,
      autocomplete: "current-password",
    }),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  clear(app, h("main", { id: "main", class: "login-page" }, form));
  form.querySelector("input").focus();
}

function layout(session) {
  const role = session.me.role;
  const links = NAV[role] || NAV.hr;
  const current = location.hash.slice(1) || "/";
  return h(
    "div",
    { class: "shell" },
    h(
      "header",
      { class: "topbar" },
      h("a", { href: "#/", class: "brand" }, "Easy Travels"),
      h(
        "nav",
        { "aria-label": "Main" },
        h(
          "ul",
          {},
          links.map(([href, label]) =>
            h(
              "li",
              {},
              h(
                "a",
                { href: `#${href}`, "aria-current": href === current ? "page" : null },
                label,
              ),
            ),
          ),
        ),
      ),
      h(
        "div",
        { class: "who" },
        h(
          "span",
          {},
          `${session.me.profile.name} · `,
          h("span", { class: "role" }, role.replace("_", " ")),
        ),
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              await logout();
              location.hash = "#/";
              render();
            },
          },
          "Log out",
        ),
      ),
    ),
    h("main", { id: "main" }),
  );
}

async function render() {
  const session = currentSession();
  if (!session?.me) return loginView();
  const path = location.hash.slice(1) || "/";
  clear(app, layout(session));
  const main = document.getElementById("main");
  const found = match(path.split("?")[0]);
  const query = Object.fromEntries(new URLSearchParams(path.split("?")[1] || ""));
  if (!found) {
    clear(main, heading("Not found"), h("p", {}, "This page does not exist."));
    return;
  }
  const [view, params] = found;
  try {
    await view(main, { ...params, query, me: session.me, rerender: render });
  } catch (error) {
    const slot = h("div");
    main.append(slot);
    showError(slot, error);
  }
  document.getElementById("page-title")?.focus({ preventScroll: true });
}

// The skip link must not change the route (the app routes by URL fragment).
document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  const main = document.getElementById("main");
  main?.setAttribute("tabindex", "-1");
  main?.focus();
});
window.addEventListener("hashchange", render);
window.addEventListener("session-ended", () => render());
render();
