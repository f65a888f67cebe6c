// The ViCE Registry dashboard's script: actions through the /v1 API with the session cookie
// and its CSRF token, uploads with a progress bar, live status from the event stream.
// Written for the registry, no library; the pages work for reading without it.
"use strict";

(function () {
  const csrfMeta = document.querySelector('meta[name="vice-csrf"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  function notice(text, isError) {
    const box = document.getElementById("notice");
    if (!box) return;
    box.textContent = text;
    box.className = isError ? "show error" : "show";
    box.setAttribute("role", isError ? "alert" : "status");
    clearTimeout(notice.timer);
    notice.timer = setTimeout(function () { box.className = ""; }, isError ? 12000 : 5000);
  }

  function signInAgain() {
    window.location = "/ui/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (method !== "GET") headers["X-Vice-CSRF"] = csrf;
    const options = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 401) { signInAgain(); throw new Error("signed out"); }
    const text = await response.text();
    let value = null;
    try { value = text ? JSON.parse(text) : null; } catch (e) { value = null; }
    if (!response.ok) throw new Error((value && value.message) || ("the registry answered " + response.status));
    return value;
  }

  // Form fields named with dots (credentials.location) become nested objects; empty fields go.
  function formObject(form) {
    const result = {};
    for (const element of form.elements) {
      if (!element.name || element.type === "submit" || element.type === "file") continue;
      let value = element.value;
      if (value === "") continue;
      if (element.hasAttribute("data-json")) {
        try { value = JSON.parse(value); } catch (e) { throw new Error(element.labels[0].textContent + " is not valid JSON"); }
      }
      const path = element.name.split(".");
      let target = result;
      for (let i = 0; i < path.length - 1; i++) target = target[path[i]] = target[path[i]] || {};
      target[path[path.length - 1]] = value;
    }
    return result;
  }

  function then(target, value) {
    if (!target || target === "reload") { window.location.reload(); return; }
    window.location = target.replace("{id}", encodeURIComponent((value && value.id) || ""));
  }

  // --- live updates: one event stream per page ---------------------------------------------
  const listeners = [];
  let stream = null;
  function onEvent(listener) {
    listeners.push(listener);
    if (stream || !window.EventSource) return;
    stream = new EventSource("/v1/events?kinds=job.state,job.progress,image.status,deployment.status");
    for (const kind of ["job.state", "job.progress", "image.status", "deployment.status"]) {
      stream.addEventListener(kind, function (event) {
        let data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        for (const listener of listeners.slice()) listener(kind, data);
      });
    }
  }

  function statusBadge(element, status) {
    element.innerHTML = "";
    const badge = document.createElement("span");
    badge.className = "status status-" + status;
    badge.textContent = status;
    element.appendChild(badge);
  }

  function percent(job) {
    return job.bytesTotal ? Math.min(100, Math.round(100 * (job.bytesDone || 0) / job.bytesTotal)) : null;
  }

  function liveLists() {
    const watched = document.querySelectorAll("[data-job-state],[data-image-status],[data-deployment-status],[data-job-line]");
    if (!watched.length) return;
    onEvent(function (kind, data) {
      if (kind === "image.status") {
        document.querySelectorAll('[data-image-status="' + data.id + '"]').forEach(function (e) { statusBadge(e, data.status); });
      } else if (kind === "deployment.status") {
        document.querySelectorAll('[data-deployment-status="' + data.id + '"]').forEach(function (e) { statusBadge(e, data.status); });
      } else {
        document.querySelectorAll('[data-job-state="' + data.id + '"]').forEach(function (e) { statusBadge(e, data.state); });
        const value = percent(data);
        document.querySelectorAll('[data-job-progress="' + data.id + '"]').forEach(function (e) {
          if (value !== null) { e.value = value; e.textContent = value + "%"; }
          if (data.state === "succeeded") e.value = 100;
        });
        document.querySelectorAll('[data-job-phase="' + data.id + '"]').forEach(function (e) { e.textContent = data.phase || ""; });
        document.querySelectorAll('[data-job-line="' + data.id + '"]').forEach(function (e) {
          e.textContent = data.state + (value !== null ? " " + value + "%" : "");
        });
      }
    });
  }

  // Follows one job until it ends; resolves with its last state.
  function followJob(jobId, progress, output) {
    return new Promise(function (resolve) {
      let done = false;
      function show(job) {
        if (done || job.id !== jobId) return;
        const value = percent(job);
        if (progress) { progress.hidden = false; if (value !== null) progress.value = value; }
        if (output) output.textContent = job.state + (job.phase ? " (" + job.phase + ")" : "") + (value !== null ? " " + value + "%" : "");
        if (["succeeded", "failed", "cancelled"].indexOf(job.state) >= 0) {
          done = true;
          if (job.state === "succeeded" && progress) progress.value = 100;
          resolve(job);
        }
      }
      onEvent(function (kind, data) { if (kind === "job.state" || kind === "job.progress") show(data); });
      // The stream opens asynchronously, so an event can pass before it does: the job is also
      // read now and every two seconds until it ends.
      function poll() { api("GET", "/v1/jobs/" + encodeURIComponent(jobId)).then(show).catch(function () {}); }
      poll();
      const timer = setInterval(function () { if (done) clearInterval(timer); else poll(); }, 2000);
    });
  }

  // --- actions --------------------------------------------------------------------------------
  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-method][data-path]");
    if (button) {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      button.disabled = true;
      try {
        const value = await api(button.dataset.method, button.dataset.path);
        then(button.dataset.then, value);
      } catch (e) { notice(e.message, true); button.disabled = false; }
      return;
    }
    const importButton = event.target.closest("button[data-import]");
    if (importButton) {
      importButton.disabled = true;
      const output = document.getElementById("import-status");
      try {
        const image = await api("POST", "/v1/images", {
          title: importButton.dataset.title, originEnvironment: importButton.dataset.environment,
          environmentReference: importButton.dataset.import });
        output.innerHTML = "";
        const link = document.createElement("a");
        link.href = "/ui/images/" + encodeURIComponent(image.id);
        link.textContent = "Importing " + (image.title || image.id) + ": follow it";
        output.appendChild(link);
        notice("Import started");
      } catch (e) { notice(e.message, true); importButton.disabled = false; }
      return;
    }
    const health = event.target.closest("button[data-health]");
    if (health) {
      const output = document.getElementById("health-status");
      output.textContent = "checking…";
      try {
        const answer = await api("GET", "/v1/environment/" + encodeURIComponent(health.dataset.health) + "/health");
        output.textContent = answer.status + (answer.message ? ": " + answer.message : "");
        output.className = answer.status === "healthy" ? "ok" : "error";
      } catch (e) { output.textContent = e.message; output.className = "error"; }
    }
  });

  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (form.matches("form[data-method][data-path]")) {
      event.preventDefault();
      try {
        const value = await api(form.dataset.method, form.dataset.path, formObject(form));
        then(form.dataset.then, value);
      } catch (e) { notice(e.message, true); }
    } else if (form.matches("form[data-upload]")) {
      event.preventDefault();
      upload(form);
    } else if (form.matches("form[data-deploy]")) {
      event.preventDefault();
      deploy(form);
    }
  });

  // Makes the image record, then sends the file as the request body: the browser streams it
  // from disk, the page never holds it. Then follows the store job until the image is active.
  async function upload(form) {
    const file = form.querySelector('input[type="file"]').files[0];
    const progress = document.getElementById("upload-progress");
    const output = document.getElementById("upload-status");
    const button = form.querySelector('button[type="submit"]');
    if (!file) { notice("Choose a file first", true); return; }
    button.disabled = true;
    try {
      const fields = formObject(form);
      const image = await api("POST", "/v1/images", { title: fields.title, contenttype: fields.contenttype });
      progress.hidden = false;
      progress.value = 0;
      const stored = await new Promise(function (resolve, reject) {
        const request = new XMLHttpRequest();
        request.open("POST", "/v1/image/" + encodeURIComponent(image.id) + "/file");
        request.setRequestHeader("Content-Type", "application/octet-stream");
        request.setRequestHeader("X-Vice-CSRF", csrf);
        request.setRequestHeader("Accept", "application/json");
        request.upload.onprogress = function (e) {
          if (e.lengthComputable) {
            progress.value = Math.round(100 * e.loaded / e.total);
            output.textContent = "uploading " + progress.value + "%";
          }
        };
        request.onload = function () {
          let value = null;
          try { value = JSON.parse(request.responseText); } catch (e) { value = null; }
          if (request.status >= 200 && request.status < 300) resolve(value);
          else reject(new Error((value && value.message) || ("the registry answered " + request.status)));
        };
        request.onerror = function () { reject(new Error("the upload broke off")); };
        request.send(file);
      });
      output.textContent = "checking and storing…";
      if (stored && stored.jobId) {
        const job = await followJob(stored.jobId, progress, output);
        if (job.state !== "succeeded") throw new Error("storing failed: " + ((job.error && job.error.message) || job.state));
      }
      window.location = "/ui/images/" + encodeURIComponent(image.id);
    } catch (e) {
      output.textContent = e.message;
      notice(e.message, true);
      button.disabled = false;
    }
  }

  async function deploy(form) {
    const progress = document.getElementById("deploy-progress");
    const output = document.getElementById("deploy-status");
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const deployment = await api("POST", "/v1/deploy", { imageid: form.dataset.deploy, environmentId: formObject(form).environmentId });
      output.textContent = "queued";
      const job = await followJob(deployment.jobId, progress, output);
      output.textContent = job.state === "succeeded" ? "deployed" : ("failed: " + ((job.error && job.error.message) || job.state));
      setTimeout(function () { window.location.reload(); }, 800);
    } catch (e) { notice(e.message, true); button.disabled = false; }
  }

  liveLists();
})();
