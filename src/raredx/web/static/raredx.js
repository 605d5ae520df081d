/* raredx web UI: HPO autocomplete, VCF upload with progress, analysis jobs.
 * Plain JavaScript, no dependencies, no inline handlers (the pages' CSP forbids them).
 * Every page works without it except the VCF upload; translated messages come from the
 * elements' data-msg-* attributes, the CSRF token from <meta name="csrf-token">. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function errorText(xhrStatus, body) {
    var data = null;
    try { data = typeof body === "string" ? JSON.parse(body) : body; } catch (e) { data = null; }
    if (data && typeof data === "object") {
      var parts = [];
      if (typeof data.detail === "string") { parts.push(data.detail); }
      else if (Array.isArray(data.detail)) {
        data.detail.forEach(function (d) { if (d && d.msg) { parts.push(d.msg); } });
      }
      if (typeof data.error === "string") { parts.push(data.error); }
      if (Array.isArray(data.problems)) { parts = parts.concat(data.problems.slice(0, 5)); }
      if (parts.length) { return parts.join(" · "); }
    }
    return "HTTP " + xhrStatus;
  }

  function requestJson(method, url, body) {
    var headers = { "Accept": "application/json", "X-CSRF-Token": csrfToken() };
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, ok: response.ok, data: data, text: text };
      });
    });
  }

  /* ------------------------------------------------------------------ HPO autocomplete */
  function normalizeResults(data) {
    var list = Array.isArray(data) ? data : null;
    if (!list && data && typeof data === "object") {
      list = data.results || data.terms || data.matches || data.items || data.hits || [];
    }
    return (list || []).map(function (x) {
      return {
        id: x.id || x.term_id || x.hpo_id || "",
        label: x.label || x.name || x.term_label || "",
        labelFr: x.label_fr || x.labelFr || null,
        matched: x.matched_text || x.matched || ""
      };
    }).filter(function (x) { return /^HP:\d{7}$/.test(x.id); });
  }

  function setupAutocomplete(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var form = input.form;
    var hidden = form ? form.querySelector('input[name="term_id"]') : null;
    var lang = input.getAttribute("data-lang") === "fr" ? "fr" : "en";
    var url = input.getAttribute("data-search-url");
    var items = [];
    var active = -1;
    var timer = null;
    var sequence = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      items = [];
      active = -1;
    }

    function info(text) {
      list.textContent = "";
      var li = document.createElement("li");
      li.className = "info";
      li.textContent = text;
      list.appendChild(li);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      var nodes = list.querySelectorAll('li[role="option"]');
      nodes.forEach(function (node, i) { node.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && nodes[index]) {
        input.setAttribute("aria-activedescendant", nodes[index].id);
        nodes[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      if (hidden) { hidden.value = item.id; }
      input.value = (lang === "fr" && item.labelFr) ? item.labelFr : item.label;
      close();
      if (form) {
        if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
      }
    }

    function show(found) {
      items = found;
      list.textContent = "";
      if (!found.length) { info(input.getAttribute("data-msg-none")); return; }
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = "term-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-term", item.id);
        var main = (lang === "fr" && item.labelFr) ? item.labelFr : item.label;
        var other = (lang === "fr") ? item.label : item.labelFr;
        var strong = document.createElement("span");
        strong.className = "opt-label";
        strong.textContent = main;
        li.appendChild(strong);
        var extra = document.createElement("span");
        extra.className = "opt-other";
        var bits = [item.id];
        if (other && other !== main) { bits.push(other); }
        if (item.matched && item.matched !== main && item.matched !== other) { bits.push("« " + item.matched + " »"); }
        extra.textContent = " " + bits.join(" · ");
        li.appendChild(extra);
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(0);
    }

    function search(query, searchLang, mine) {
      var target = url + "?q=" + encodeURIComponent(query) + "&lang=" + searchLang + "&limit=10";
      return requestJson("GET", target).then(function (reply) {
        if (mine !== sequence) { return; }
        if (!reply.ok) { info(input.getAttribute("data-msg-error")); return; }
        var found = normalizeResults(reply.data);
        if (!found.length && searchLang !== "any") { return search(query, "any", mine); }
        show(found);
      });
    }

    input.addEventListener("input", function () {
      if (hidden) { hidden.value = ""; }
      var query = input.value.trim();
      window.clearTimeout(timer);
      if (query.length < 2 || query.indexOf(";") >= 0) { sequence += 1; close(); return; }
      timer = window.setTimeout(function () {
        sequence += 1;
        var mine = sequence;
        search(query, lang, mine).catch(function () {
          if (mine === sequence) { info(input.getAttribute("data-msg-error")); }
        });
      }, 120);
    });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden || !items.length) { return; }
      if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(Math.min(items.length - 1, active + 1)); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(0, active - 1)); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(active); }
      else if (ev.key === "Escape") { ev.preventDefault(); close(); }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  /* ------------------------------------------------------------------ analysis jobs */
  function isDone(status) {
    return ["done", "succeeded", "success", "finished", "completed", "complete"].indexOf(status) >= 0;
  }
  function isFailed(status) {
    return ["failed", "error", "cancelled", "canceled"].indexOf(status) >= 0;
  }

  function waitForJob(jobsUrl, jobId, report, resultsUrl) {
    var started = Date.now();
    function poll() {
      requestJson("GET", jobsUrl + encodeURIComponent(jobId)).then(function (reply) {
        var data = reply.data || {};
        var status = String(data.status || data.state || "").toLowerCase();
        if (!reply.ok) { report.fail(errorText(reply.status, reply.text)); return; }
        if (isDone(status)) { report.done(); window.location.assign(resultsUrl); return; }
        if (isFailed(status)) { report.fail(errorText(reply.status, data)); return; }
        if (Date.now() - started > 30 * 60 * 1000) { report.fail("timeout"); return; }
        report.progress(data);
        window.setTimeout(poll, 1000);
      }).catch(function (e) { report.fail(String(e)); });
    }
    poll();
  }

  function startAnalysis(form, report, fallback) {
    var analysesUrl = form.getAttribute("data-analyses-url");
    var jobsUrl = form.getAttribute("data-jobs-url");
    var resultsUrl = form.getAttribute("data-results-url");
    requestJson("POST", analysesUrl, {}).then(function (reply) {
      if ((reply.status === 404 || reply.status === 405) && fallback) { fallback(); return; }
      if (reply.status === 202 && reply.data && (reply.data.job_id || reply.data.id)) {
        waitForJob(jobsUrl, reply.data.job_id || reply.data.id, report, resultsUrl);
      } else if (reply.ok) {
        report.done();
        window.location.assign(resultsUrl);
      } else {
        report.fail(errorText(reply.status, reply.text));
      }
    }).catch(function (e) { if (fallback) { fallback(); } else { report.fail(String(e)); } });
  }

  /* ------------------------------------------------------------------ VCF upload */
  function setupVcf(form) {
    var input = form.querySelector('input[type="file"]');
    var bar = form.querySelector("progress");
    var line = form.querySelector(".status-line");
    var button = form.querySelector('button[type="submit"]');
    function msg(name) { return form.getAttribute("data-msg-" + name) || name; }
    function say(text) { line.textContent = text; }
    var report = {
      progress: function (data) {
        var extra = data && data.step ? " (" + data.step + ")" : "";
        say(msg("analysing") + extra);
        bar.removeAttribute("value");
      },
      done: function () { bar.value = 100; say(msg("done")); },
      fail: function (text) { button.disabled = false; say(msg("failed") + ": " + text); bar.hidden = true; }
    };
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var file = input.files && input.files[0];
      if (!file) { say(msg("choose")); return; }
      var limit = Number(form.getAttribute("data-max-bytes") || "0");
      if (limit && file.size > limit) { say(msg("too-large")); return; }
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      say(msg("uploading"));
      var xhr = new XMLHttpRequest();
      var name = file.name.replace(/[^A-Za-z0-9._+-]+/g, "_").replace(/^[^A-Za-z0-9]+/, "").slice(-200);
      var url = form.getAttribute("data-upload-url") + "?filename=" + encodeURIComponent(name || "upload.vcf");
      xhr.open("PUT", url);
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.round((e.loaded / e.total) * 100);
          bar.value = percent;
          say(msg("uploading") + " " + percent + "%");
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          say(msg("uploaded"));
          startAnalysis(form, report, null);
        } else {
          report.fail(errorText(xhr.status, xhr.responseText));
        }
      });
      xhr.addEventListener("error", function () { report.fail("network error"); });
      xhr.send(file);
    });
  }

  /* ------------------------------------------------------------------ run diagnosis */
  function setupDiagnose(form) {
    var line = form.querySelector(".status-line");
    var button = form.querySelector('button[type="submit"]');
    var useVcf = form.querySelector('input[name="use_vcf"]');
    var report = {
      progress: function () { line.textContent = form.getAttribute("data-msg-running"); },
      done: function () { line.textContent = ""; },
      fail: function (text) {
        button.disabled = false;
        line.textContent = form.getAttribute("data-msg-failed") + ": " + text;
      }
    };
    form.addEventListener("submit", function (ev) {
      line.textContent = form.getAttribute("data-msg-running");
      if (useVcf && useVcf.checked) {
        ev.preventDefault();
        button.disabled = true;
        startAnalysis(form, report, function () { form.submit(); });
      } else {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  }

  /* ------------------------------------------------------------------ small things */
  function setupFileLimits() {
    document.querySelectorAll('input[type="file"][data-max-bytes]').forEach(function (input) {
      input.addEventListener("change", function () {
        var limit = Number(input.getAttribute("data-max-bytes"));
        var file = input.files && input.files[0];
        input.setCustomValidity(file && limit && file.size > limit ? "> " + Math.round(limit / 1048576) + " MiB" : "");
      });
    });
  }

  function init() {
    var term = document.getElementById("term-input");
    if (term) {
      setupAutocomplete(term);
      if (window.location.hash === "#add-term") { term.focus(); }
    }
    var vcf = document.getElementById("vcf-form");
    if (vcf) { setupVcf(vcf); }
    var diagnoseForm = document.getElementById("diagnose-form");
    if (diagnoseForm) { setupDiagnose(diagnoseForm); }
    setupFileLimits();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
