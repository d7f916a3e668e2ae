/* The campaign explorer: hash-routed pages over the REST API, plain DOM, no build step.
 *
 * Every piece of data from the API enters the page as text (el() appends strings as text nodes,
 * SVG titles use textContent, the graph draws labels on a canvas): never as HTML. Links to the
 * platform are checked to be http(s) before they become an href. */
"use strict";

(function () {
  const KEY_STORAGE = "cib-api-key";
  const API = new URL("../v1/", document.baseURI); // also right when the service sits under a prefix
  const PAGE = 25;
  const MAX_DRAWN_NODES = 3000; // beyond this the browser crawls; `cib export` gives the whole graph
  const MAX_FORCE_LAYOUT = 800; // a force-directed layout of more nodes takes seconds: a grid instead
  const SVG = "http://www.w3.org/2000/svg";

  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  const searchText = document.getElementById("search-text");
  let generation = 0; // a page whose answers arrive after the reader moved on is dropped

  class NeedKey extends Error {}
  class Problem extends Error {}

  // Building elements: attributes are set by name, children are appended as text or nodes.

  function el(tag, attrs, ...children) {
    return fill(document.createElement(tag), attrs, children);
  }

  function svg(tag, attrs, ...children) {
    return fill(document.createElementNS(SVG, tag), attrs, children);
  }

  function fill(node, attrs, children) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(typeof child === "object" ? child : String(child));
      }
    }
    return node;
  }

  function link(hash, text) {
    return el("a", { href: hash }, text);
  }

  function external(url, text) {
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch (_) {
      return null;
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      return null;
    }
    return el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer" }, text);
  }

  function table(headers, rows, empty) {
    if (rows.length === 0) {
      return el("p", { class: "empty" }, empty);
    }
    return el("div", { class: "scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)));
  }

  function facts(pairs) {
    return el("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  function enc(part) {
    return encodeURIComponent(part);
  }

  function when(iso) {
    return iso ? String(iso).replace("T", " ").replace(/\.\d+/, "").replace(/(Z|\+00:00)$/, " UTC") : "";
  }

  function duration(seconds) {
    if (seconds < 90) return `${Math.round(seconds)} s`;
    if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
    if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / 86400).toFixed(1)} days`;
  }

  function score(value) {
    return value === null || value === undefined ? "" : Number(value).toFixed(2);
  }

  function offsetOf(params, name) {
    const value = Number.parseInt(params.get(name) || "0", 10);
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  function accountLink(platform, accountId, handle) {
    return link(`#/account/${enc(platform)}/${enc(accountId)}`, handle ? `@${handle}` : accountId);
  }

  function campaignLink(campaignId) {
    return link(`#/campaign/${enc(campaignId)}`, campaignId);
  }

  function flaggedWords(flagged) {
    if (flagged === null || flagged === undefined) return "";
    return flagged ? "flagged for review" : "not flagged";
  }

  function pager(page, hashFor, what) {
    const last = Math.min(page.offset + page.items.length, page.total);
    const parts = [el("span", {}, page.total ? `${what} ${page.offset + 1}–${last} of ${page.total}` : "")];
    if (page.offset > 0) {
      parts.unshift(link(hashFor(Math.max(0, page.offset - page.limit)), "← previous"));
    }
    if (last < page.total) {
      parts.push(link(hashFor(page.offset + page.limit), "next →"));
    }
    return el("p", { class: "pager" }, parts);
  }

  // The API: the key goes in X-API-Key on every call; 401 and 403 send the reader to the key form.

  function key() {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  }

  async function call(path, body) {
    const options = { headers: { "X-API-Key": key(), Accept: "application/json" }, cache: "no-store" };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(new URL(path, API), options);
    } catch (error) {
      throw new Problem(`the service did not answer (${error.message})`);
    }
    const answer = await response.json().catch(() => null);
    if (response.ok) {
      return answer;
    }
    const message = (answer && answer.error && answer.error.message) || `${response.status} ${response.statusText}`;
    if (response.status === 401 || response.status === 403) {
      throw new NeedKey(message);
    }
    throw new Problem(message);
  }

  // Pages.

  function keyForm(message) {
    const input = el("input", { id: "key", name: "key", type: "password", autocomplete: "off", required: true });
    const form = el("form", { id: "key-form" },
      el("h1", {}, "Your API key"),
      message ? el("p", { class: "error", role: "alert" }, message) : null,
      el("label", { for: "key" }, "Paste the key an admin gave you (a read key is enough)"),
      input,
      el("button", { type: "submit" }, "Open the campaigns"),
      el("p", { class: "hint" }, "The key stays in this browser tab (session storage) and is sent " +
        "only to this service, in the X-API-Key header."));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY_STORAGE, input.value.trim());
      const here = location.hash;
      if (here === "" || here === "#" || here.startsWith("#/key")) {
        location.hash = "#/campaigns"; // the hashchange event renders it
      } else {
        route();
      }
    });
    return { node: form, ready: () => input.focus() };
  }

  async function campaignsPage(params) {
    const offset = offsetOf(params, "offset");
    const page = await call(`campaigns?limit=${PAGE}&offset=${offset}`);
    const rows = page.items.map((c) => el("tr", {},
      el("td", { class: "num" }, c.rank),
      el("td", {}, campaignLink(c.campaign_id)),
      el("td", {}, c.kind),
      el("td", { class: "num" }, score(c.score)),
      el("td", { class: "num" }, c.size),
      el("td", {}, c.signals.join(", ")),
      el("td", {}, when(c.start)),
      el("td", {}, duration(c.span_seconds)),
      el("td", { class: "text" }, c.representative_text)));
    return {
      node: el("section", { id: "campaigns" },
        el("h1", {}, "Campaigns, strongest coordination signals first"),
        table(["rank", "campaign", "kind", "score", "accounts", "signals", "start", "span", "representative text"],
          rows, "No campaigns in the latest detection."),
        pager(page, (o) => `#/campaigns?offset=${o}`, "campaigns")),
    };
  }

  async function campaignPage(campaignId, params) {
    const evidenceOffset = offsetOf(params, "evidence");
    const path = `campaigns/${enc(campaignId)}`;
    const [detail, graph] = await Promise.all([
      call(`${path}?members_limit=100&evidence_limit=${PAGE}&evidence_offset=${evidenceOffset}`),
      call(`${path}/graph?format=json`)]);
    const c = detail.campaign;
    const handles = new Map(detail.members.items.map((m) => [`${m.platform}:${m.account_id}`, m.handle]));
    const container = el("div", { id: "graph", class: "graph" });
    const hover = el("p", { id: "graph-hover", class: "hint" }, "Click an account to open it.");
    const node = el("section", { id: "campaign" },
      el("h1", {}, `Campaign ${c.campaign_id}: ${c.kind}`),
      el("p", {}, `Score ${score(c.score)}, rank ${c.rank}: ${c.size} accounts ` +
        (c.kind === "relay" ? "that posted one text in one burst. " : "whose posts coincide again and again. ") +
        "A coordination signal flagged for review, not a verdict about the accounts."),
      facts([["signals", c.signals.join(", ")], ["events", c.events], ["first post", when(c.start)],
        ["last post", when(c.end)], ["span", duration(c.span_seconds)],
        ["representative text", el("span", { class: "text" }, c.representative_text)]]),
      el("h2", {}, "Network"),
      el("p", { class: "legend" }, "Accounts as nodes, sized by score; orange: flagged for review, grey: " +
        "not flagged. Ties (shared co-actions) as edges, thicker when stronger; a relay, whose " +
        "accounts met once, is drawn around its events (blue squares)."),
      container, hover,
      el("h2", {}, `Timeline: evidence posts per ${detail.bucket}`),
      timeline(detail.timeline, detail.bucket),
      el("h2", {}, "Messages it pushed"),
      messagesTable(detail.messages),
      el("h2", {}, "Members"),
      membersTable(detail.members),
      el("h2", {}, "Evidence posts"),
      evidenceTable(detail.evidence.items),
      pager(detail.evidence, (o) => `#/campaign/${enc(campaignId)}?evidence=${o}`, "posts"));
    return { node, ready: () => drawGraph(container, hover, graph, handles) };
  }

  function messagesTable(messages) {
    return table(["signal", "text", "posts", "accounts", "first", "last"], messages.map((m) => el("tr", {},
      el("td", {}, m.signal), el("td", { class: "text" }, m.text), el("td", { class: "num" }, m.posts),
      el("td", { class: "num" }, m.accounts), el("td", {}, when(m.first)), el("td", {}, when(m.last)))),
    "No messages.");
  }

  function membersTable(members) {
    const rows = members.items.map((m) => el("tr", {},
      el("td", {}, accountLink(m.platform, m.account_id, m.handle)),
      el("td", { class: "num" }, score(m.score)),
      el("td", {}, flaggedWords(m.flagged)),
      el("td", {}, m.campaign_id ? campaignLink(m.campaign_id) : "")));
    const shown = members.items.length;
    return [
      table(["account", "score", "", "best campaign"], rows, "No members."),
      members.total > shown ? el("p", { class: "hint" }, `The ${shown} highest scores of ${members.total} members.`) : null,
    ];
  }

  function evidenceTable(items) {
    return table(["event", "signal", "posted", "delay", "account", "text", "similarity", "post"],
      items.map((e) => el("tr", {},
        el("td", { class: "num" }, e.event), el("td", {}, e.signal), el("td", {}, when(e.posted_at)),
        el("td", { class: "num" }, duration(e.delay_s)),
        el("td", {}, accountLink(e.platform, e.account_id, e.handle)),
        el("td", { class: "text evidence-text" }, e.text),
        el("td", { class: "num" }, score(e.similarity)),
        el("td", {}, e.url ? external(e.url, "open") : ""))),
      "No evidence posts.");
  }

  function timeline(buckets, unit) {
    const width = 800;
    const height = 160;
    const pad = 28;
    const most = buckets.reduce((m, b) => Math.max(m, b.posts), 0) || 1;
    const step = (width - 2 * pad) / Math.max(buckets.length, 1);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "timeline", role: "img",
      "aria-label": `Evidence posts per ${unit}` });
    buckets.forEach((b, i) => {
      const barHeight = (height - 2 * pad) * b.posts / most;
      chart.append(svg("rect", { class: "bar", x: pad + i * step + step * 0.1, y: height - pad - barHeight,
        width: Math.max(step * 0.8, 0.5), height: barHeight },
      svg("title", {}, `${when(b.start)}: ${b.posts} posts by ${b.accounts} accounts`)));
    });
    chart.append(
      svg("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }),
      svg("text", { x: pad, y: height - 8 }, buckets.length ? when(buckets[0].start) : "no posts"),
      svg("text", { x: width - pad, y: height - 8, "text-anchor": "end" },
        buckets.length > 1 ? when(buckets[buckets.length - 1].start) : ""),
      svg("text", { x: pad, y: pad - 10 }, `${most} posts`));
    return chart;
  }

  function drawGraph(container, hover, graph, handles) {
    const nodes = graph.nodes || [];
    const edges = graph.edges || graph.links || [];
    if (typeof window.cytoscape !== "function") {
      container.replaceChildren(el("p", { class: "error" }, "The graph library did not load."));
      return;
    }
    if (nodes.length > MAX_DRAWN_NODES) {
      container.replaceChildren(el("p", { class: "hint" }, `${nodes.length} accounts: too many to draw ` +
        "here. `cib export --format gexf` writes the graph for Gephi."));
      return;
    }
    const heaviest = edges.reduce((m, e) => Math.max(m, e.weight || 0), 0) || 1;
    const elements = nodes.map((n) => ({ group: "nodes", data: {
      id: String(n.id), kind: n.kind === "event" ? "event" : "account", platform: n.platform,
      account: n.account_id, score: n.score || 0, flagged: Boolean(n.flagged),
      label: n.kind === "event" ? String(n.label) : handles.get(String(n.id)) || n.account_id } }))
      .concat(edges.map((e, i) => ({ group: "edges", data: {
        id: `e${i}`, source: String(e.source), target: String(e.target), weight: e.weight,
        contents: e.contents, signals: e.signals, width: 1 + 7 * (e.weight || 0) / heaviest } })));
    const cy = window.cytoscape({
      container, elements,
      layout: { name: edges.length && nodes.length <= MAX_FORCE_LAYOUT ? "cose" : "grid", animate: false },
      style: [
        { selector: "node", style: { width: "mapData(score, 0, 1, 10, 40)", height: "mapData(score, 0, 1, 10, 40)",
          "background-color": "#8a8f98", label: "data(label)", "font-size": 8, color: "#333" } },
        { selector: "node[?flagged]", style: { "background-color": "#d9622b" } },
        { selector: 'node[kind = "event"]', style: { shape: "round-rectangle", width: 22, height: 22,
          "background-color": "#3d5a80", color: "#3d5a80" } },
        { selector: "edge", style: { width: "data(width)", "line-color": "#9bb0c9", opacity: 0.7,
          "curve-style": "haystack" } },
      ],
    });
    cy.on("tap", 'node[kind = "account"]', (event) => {
      const d = event.target.data();
      location.hash = `#/account/${enc(d.platform)}/${enc(d.account)}`;
    });
    cy.on("mouseover", "node", (event) => {
      const d = event.target.data();
      hover.textContent = d.kind === "event"
        ? `${d.label}: a shared co-action; its accounts are linked to it.`
        : `${d.label}: score ${score(d.score)}, ${flaggedWords(d.flagged)}, ` +
          `${event.target.degree()} ties. Click to open.`;
    });
    cy.on("mouseover", "edge", (event) => {
      const d = event.target.data();
      hover.textContent = `Tie: ${d.contents} shared contents (${d.signals}), weight ${score(d.weight)}.`;
    });
    window.cibGraph = cy; // the browser tests count its nodes
  }

  async function accountPage(platform, accountId) {
    const detail = await call(`accounts/${enc(platform)}/${enc(accountId)}?evidence_limit=20`);
    const a = detail.account;
    const p = detail.profile || {};
    const subscores = Object.entries(a.subscores).map(([name, value]) => el("tr", {},
      el("td", {}, name), el("td", { class: "num" }, score(value)),
      el("td", {}, el("meter", { min: 0, max: 1, value }))));
    const features = Object.entries(a.features).map(([name, value]) => el("tr", {},
      el("td", {}, name), el("td", { class: "num" }, Number(value).toPrecision(4))));
    return {
      node: el("section", { id: "account" },
        el("h1", {}, `Account ${a.handle ? `@${a.handle}` : a.account_id}`),
        el("p", { class: a.flagged ? "status flagged" : "status" },
          `Score ${score(a.score)}, threshold ${score(a.threshold)}: ${flaggedWords(a.flagged)}. ` +
          "A coordination signal to check against the posts below, not a verdict about the account."),
        facts([["platform", a.platform], ["account id", a.account_id], ["handle", a.handle],
          ["name", p.name], ["created", when(p.created_at)], ["followers", p.followers],
          ["following", p.following], ["posts", p.posts_count],
          ["campaigns", detail.campaigns.length
            ? el("span", {}, detail.campaigns.map((id, i) => [i ? ", " : "", campaignLink(id)])) : "none"]]),
        el("h2", {}, "Sub-scores"),
        table(["part", "value", ""], subscores, "No sub-scores."),
        el("details", {}, el("summary", {}, "Measurements the score was computed from"),
          table(["feature", "value"], features, "None.")),
        el("h2", {}, "Evidence posts: its own and those of the accounts it coincides with"),
        evidenceTable(detail.evidence)),
    };
  }

  async function lookupPage(params) {
    const text = params.get("text") || "";
    searchText.value = text;
    if (!text.trim()) {
      return { node: el("p", {}, "Paste a text in the search box to see whether it is being relayed.") };
    }
    const r = await call("lookup", { text, limit: 50 });
    const verdict = r.relayed
      ? `Relayed: matching posts come from accounts in ${r.campaigns.length} campaign(s), flagged for review.`
      : "No detected campaign relays it.";
    const notes = [];
    if (r.truncated) notes.push("More candidates than could be checked: results are partial.");
    if (r.unindexed_posts) notes.push(`${r.unindexed_posts} posts are not searchable yet (a job is running).`);
    return {
      node: el("section", { id: "lookup" },
        el("h1", {}, "Is this text being relayed?"),
        el("blockquote", { class: "text" }, text),
        el("p", { class: "status" }, `${verdict} ${r.total_matches} near-duplicate posts by ` +
          `${r.total_accounts} accounts.`),
        notes.map((n) => el("p", { class: "hint" }, n)),
        el("h2", {}, "Campaigns"),
        table(["campaign", "kind", "score", "accounts", "representative text"], r.campaigns.map((c) => el("tr", {},
          el("td", {}, campaignLink(c.campaign_id)), el("td", {}, c.kind), el("td", { class: "num" }, score(c.score)),
          el("td", { class: "num" }, c.size), el("td", { class: "text" }, c.representative_text))), "None."),
        el("h2", {}, "Accounts"),
        table(["account", "posts", "first", "last", "score", "", "campaigns"], r.accounts.map((a) => el("tr", {},
          el("td", {}, accountLink(a.platform, a.account_id, a.handle)), el("td", { class: "num" }, a.posts),
          el("td", {}, when(a.first_at)), el("td", {}, when(a.last_at)), el("td", { class: "num" }, score(a.score)),
          el("td", {}, flaggedWords(a.flagged)),
          el("td", {}, a.campaigns.map((id, i) => [i ? ", " : "", campaignLink(id)])))), "None."),
        el("h2", {}, "Matching posts"),
        table(["posted", "account", "similarity", "text", "post"], r.matches.map((m) => el("tr", {},
          el("td", {}, when(m.created_at)), el("td", {}, accountLink(m.platform, m.account_id, m.handle)),
          el("td", { class: "num" }, score(m.similarity)), el("td", { class: "text match-text" }, m.text),
          el("td", {}, m.url ? external(m.url, "open") : ""))), "No near-duplicate posts.")),
    };
  }

  // Routing: #/campaigns, #/campaign/ID, #/account/PLATFORM/ID, #/lookup?text=..., #/key.

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const at = raw.indexOf("?");
    const path = at < 0 ? raw : raw.slice(0, at);
    const params = new URLSearchParams(at < 0 ? "" : raw.slice(at + 1));
    return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params };
  }

  function page(parts, params) {
    const [view, first, second] = parts;
    if ((view === undefined || view === "campaigns") && parts.length <= 1) return campaignsPage(params);
    if (view === "campaign" && parts.length === 2) return campaignPage(first, params);
    if (view === "account" && parts.length === 3) return accountPage(first, second);
    if (view === "lookup") return lookupPage(params);
    return Promise.resolve({ node: el("p", { class: "error" }, "No such page. ", link("#/campaigns", "See the campaigns.")) });
  }

  function show(content) {
    if (window.cibGraph) {
      window.cibGraph.destroy();
      window.cibGraph = null;
    }
    main.replaceChildren(content.node);
    if (content.ready) content.ready();
  }

  async function route() {
    const mine = ++generation;
    let parsed;
    try {
      parsed = parseHash();
    } catch (_) {
      parsed = { parts: ["?"], params: new URLSearchParams() };
    }
    nav.hidden = !key();
    if (!key() || parsed.parts[0] === "key") {
      show(keyForm(""));
      return;
    }
    main.setAttribute("aria-busy", "true");
    try {
      const content = await page(parsed.parts, parsed.params);
      if (mine === generation) show(content);
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof NeedKey) {
        sessionStorage.removeItem(KEY_STORAGE);
        nav.hidden = true;
        show(keyForm(error.message));
      } else if (error instanceof Problem) {
        show({ node: el("p", { class: "error", role: "alert" }, error.message) });
      } else {
        throw error;
      }
    } finally {
      if (mine === generation) main.removeAttribute("aria-busy");
    }
  }

  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/lookup?text=${enc(searchText.value)}`;
  });
  document.getElementById("forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    if (location.hash === "#/key") {
      route();
    } else {
      location.hash = "#/key";
    }
  });
  window.addEventListener("hashchange", route);
  route();
}());
