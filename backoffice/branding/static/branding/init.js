// Starts GOV.UK Frontend's components on every public page. A file rather than an inline
// script, so that a Content-Security-Policy without 'unsafe-inline' lets it run. Only
// browsers that run modules get here, which is GOV.UK Frontend's test of support.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
