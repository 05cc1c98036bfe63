/* Zoom and pan for the routing diagrams (แผนภาพการส่งต่อ): shipped with the app, no CDN, no build.

   Each element marked `data-diagram` holding an inline SVG from `dot` gets:
   - the drawing fitted to the frame on load (its viewBox kept; the frame's height follows the
     drawing's shape, at least MIN_HEIGHT pixels, so it is never a blank strip, at most 80% of
     the window);
   - zoom with the wheel (around the pointer), with the + / − buttons and the + - keys;
   - pan by dragging with the pointer (mouse, pen or touch) and with the arrow keys;
   - "พอดีจอ" (the button or the 0 key) to fit the whole drawing again.
   Zooming and panning change only the SVG's viewBox, so links inside the drawing keep working:
   a click that did not drag follows the agency's or the letter's link as before.
   The frame's `data-zoom` says the current magnification against the fitted view (1 = fitted).
*/
(function () {
  "use strict";

  var MIN_HEIGHT = 420; // px: never a blank frame, even for a one-node diagram
  var MAX_HEIGHT_SHARE = 0.8; // of the window's height
  var STEP = 1.25; // one click or key press
  var MIN_ZOOM = 0.5; // against the fitted view
  var MAX_ZOOM = 40;
  var DRAG_THRESHOLD = 4; // px of pointer travel before a press becomes a drag, not a click

  function parseViewBox(svg) {
    var box = (svg.getAttribute("viewBox") || "").trim().split(/[\s,]+/).map(Number);
    if (box.length === 4 && box.every(isFinite) && box[2] > 0 && box[3] > 0) {
      return { x: box[0], y: box[1], w: box[2], h: box[3] };
    }
    var b = svg.getBBox();
    return { x: b.x, y: b.y, w: Math.max(b.width, 1), h: Math.max(b.height, 1) };
  }

  function button(label, title, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.setAttribute("aria-label", title);
    b.dataset.action = action;
    return b;
  }

  function setup(frame) {
    var svg = frame.querySelector("svg");
    if (!svg || frame.dataset.diagramReady) {
      return;
    }
    frame.dataset.diagramReady = "1";
    var home = parseViewBox(svg);
    var view = { x: home.x, y: home.y, w: home.w, h: home.h };

    // The drawing scales with the frame from now on: dot's fixed size in points goes, the
    // viewBox stays, and the aspect ratio is kept (meet: the whole view box shows).
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    svg.setAttribute("viewBox", [home.x, home.y, home.w, home.h].join(" "));

    var stage = document.createElement("div");
    stage.className = "diagram-stage";
    svg.parentNode.insertBefore(stage, svg);
    stage.appendChild(svg);

    var tools = document.createElement("div");
    tools.className = "diagram-tools";
    tools.setAttribute("role", "toolbar");
    tools.setAttribute("aria-label", "ซูมและเลื่อนแผนภาพ");
    tools.appendChild(button("+", "ขยาย (ปุ่ม +)", "in"));
    tools.appendChild(button("−", "ย่อ (ปุ่ม -)", "out"));
    tools.appendChild(button("พอดีจอ", "ย่อให้พอดีกรอบ (ปุ่ม 0)", "fit"));
    var hint = document.createElement("span");
    hint.className = "diagram-hint";
    hint.textContent = "ลากเพื่อเลื่อน · ล้อเมาส์เพื่อซูม · ปุ่มลูกศรเลื่อนเมื่อเลือกกรอบแผนภาพ";
    tools.appendChild(hint);
    frame.insertBefore(tools, stage);

    if (!frame.hasAttribute("tabindex")) {
      frame.tabIndex = 0;
    }
    frame.setAttribute("role", "group");
    if (!frame.hasAttribute("aria-label")) {
      frame.setAttribute("aria-label", "แผนภาพการส่งต่อหนังสือ: ปุ่ม + - ซูม ปุ่มลูกศรเลื่อน ปุ่ม 0 พอดีกรอบ");
    }

    function sizeFrame() {
      var width = stage.clientWidth || frame.clientWidth || 800;
      var natural = (width * home.h) / home.w;
      var most = Math.max(MIN_HEIGHT, Math.round(window.innerHeight * MAX_HEIGHT_SHARE));
      stage.style.height = Math.round(Math.min(Math.max(natural, MIN_HEIGHT), most)) + "px";
    }

    function apply() {
      svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
      frame.dataset.zoom = (home.w / view.w).toFixed(3);
    }

    function fit() {
      view = { x: home.x, y: home.y, w: home.w, h: home.h };
      apply();
    }

    // The point of the drawing (user units) under a point of the screen.
    function toDrawing(clientX, clientY) {
      var ctm = svg.getScreenCTM();
      if (!ctm) {
        return { x: view.x + view.w / 2, y: view.y + view.h / 2 };
      }
      var p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
      return { x: p.x, y: p.y };
    }

    function centre() {
      var r = svg.getBoundingClientRect();
      return toDrawing(r.left + r.width / 2, r.top + r.height / 2);
    }

    // Zoom by `factor` (> 1: closer) keeping the drawing point `at` where it is on the screen.
    function zoom(factor, at) {
      var current = home.w / view.w;
      var next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, current * factor));
      var k = current / next;
      view = {
        x: at.x - (at.x - view.x) * k,
        y: at.y - (at.y - view.y) * k,
        w: view.w * k,
        h: view.h * k,
      };
      apply();
    }

    // Move the view by a distance in screen pixels.
    function panPixels(dx, dy) {
      var ctm = svg.getScreenCTM();
      var scale = ctm ? ctm.a : 1;
      view.x -= dx / scale;
      view.y -= dy / scale;
      apply();
    }

    tools.addEventListener("click", function (event) {
      var action = event.target && event.target.dataset ? event.target.dataset.action : null;
      if (action === "in") {
        zoom(STEP, centre());
      } else if (action === "out") {
        zoom(1 / STEP, centre());
      } else if (action === "fit") {
        fit();
      }
    });

    stage.addEventListener(
      "wheel",
      function (event) {
        event.preventDefault();
        var factor = Math.pow(STEP, -event.deltaY / (event.deltaMode === 1 ? 3 : 100));
        zoom(factor, toDrawing(event.clientX, event.clientY));
      },
      { passive: false }
    );

    var press = null; // {id, x, y, dragging}
    var swallowClick = false;
    stage.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) {
        return;
      }
      press = { id: event.pointerId, x: event.clientX, y: event.clientY, dragging: false };
      swallowClick = false;
    });
    stage.addEventListener("pointermove", function (event) {
      if (!press || event.pointerId !== press.id) {
        return;
      }
      var dx = event.clientX - press.x;
      var dy = event.clientY - press.y;
      if (!press.dragging && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD) {
        return;
      }
      if (!press.dragging) {
        press.dragging = true;
        stage.setPointerCapture(event.pointerId);
        stage.classList.add("dragging");
      }
      panPixels(dx, dy);
      press.x = event.clientX;
      press.y = event.clientY;
    });
    function release(event) {
      if (!press || event.pointerId !== press.id) {
        return;
      }
      swallowClick = press.dragging;
      if (press.dragging && stage.hasPointerCapture(event.pointerId)) {
        stage.releasePointerCapture(event.pointerId);
      }
      stage.classList.remove("dragging");
      press = null;
    }
    stage.addEventListener("pointerup", release);
    stage.addEventListener("pointercancel", release);
    // A drag that ends over a link is a pan, not a click on the link.
    stage.addEventListener(
      "click",
      function (event) {
        if (swallowClick) {
          event.preventDefault();
          event.stopPropagation();
          swallowClick = false;
        }
      },
      true
    );

    frame.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) {
        return;
      }
      var step = 60; // px
      var handled = true;
      switch (event.key) {
        case "+":
        case "=":
          zoom(STEP, centre());
          break;
        case "-":
        case "_":
          zoom(1 / STEP, centre());
          break;
        case "0":
          fit();
          break;
        case "ArrowLeft":
          panPixels(step, 0);
          break;
        case "ArrowRight":
          panPixels(-step, 0);
          break;
        case "ArrowUp":
          panPixels(0, step);
          break;
        case "ArrowDown":
          panPixels(0, -step);
          break;
        default:
          handled = false;
      }
      if (handled) {
        event.preventDefault();
      }
    });

    window.addEventListener("resize", sizeFrame);
    sizeFrame();
    fit();
  }

  function setupAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-diagram]"), setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupAll);
  } else {
    setupAll();
  }
})();
