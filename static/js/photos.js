/* Photos on forms, for browsers with JavaScript: previews of the chosen
   pictures, the count and size checked before anything is sent, big camera
   files made smaller (and stripped of their location) in the browser, and a
   progress bar while htmx uploads the form.

   Progressive enhancement: without this file the plain multipart form works,
   and whatever this file does, the server checks every photo again. The
   markup comes from templates/photos/_macros.html (photo_field). */
(function () {
  "use strict";

  var FIELD = "[data-photo-field]";
  var MAX_EDGE = 2560; // longest side sent; the server makes its own sizes from it
  var QUALITY = 0.85;
  var SMALL_ENOUGH = 1536 * 1024; // files this small and not too big in pixels go as they are
  var DRAWABLE = /^image\/(jpeg|png|webp|heic|heif)$/;
  var states = new WeakMap();

  function state(field) {
    var s = states.get(field);
    if (!s) {
      s = { urls: [], work: null, selection: 0, invalid: false, resubmitting: false };
      states.set(field, s);
    }
    return s;
  }

  function fileInput(field) {
    return field.querySelector('input[type="file"]');
  }

  function keptCount(field) {
    return field.querySelectorAll('input[name="kept_photo"]:checked').length;
  }

  /* --- messages --------------------------------------------------------- */

  function showErrors(field, messages) {
    var box = field.querySelector(".errors");
    var input = fileInput(field);
    if (box) {
      box.replaceChildren();
      messages.forEach(function (text) {
        var p = document.createElement("p");
        p.className = "error";
        p.textContent = text;
        box.appendChild(p);
      });
    }
    field.classList.toggle("has-error", messages.length > 0);
    if (input) input.setAttribute("aria-invalid", messages.length ? "true" : "false");
    state(field).invalid = messages.length > 0;
  }

  function problems(field, files, checkSizes) {
    var messages = [];
    var maxCount = parseInt(field.dataset.maxCount, 10);
    var maxBytes = parseInt(field.dataset.maxBytes, 10);
    if (maxCount && files.length + keptCount(field) > maxCount) {
      messages.push(field.dataset.tooMany);
    }
    if (checkSizes && maxBytes && files.some(function (f) { return f.size > maxBytes; })) {
      messages.push(field.dataset.tooLarge);
    }
    return messages;
  }

  /* --- previews --------------------------------------------------------- */

  function clearPreviews(field) {
    var s = state(field);
    s.urls.forEach(URL.revokeObjectURL);
    s.urls = [];
    var box = field.querySelector("[data-photo-preview]");
    if (box) box.replaceChildren();
    return box;
  }

  function showPreviews(field, files) {
    var box = clearPreviews(field);
    if (!box || !files.length) return;
    var alt = field.dataset.previewAlt || "";
    var list = document.createElement("ul");
    list.className = "photo-preview-list";
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      var label = alt.replace("{number}", String(index + 1));
      var url = URL.createObjectURL(file);
      state(field).urls.push(url);
      var img = document.createElement("img");
      img.alt = label;
      img.decoding = "async";
      img.addEventListener("error", function () {
        // A format this browser cannot show (HEIC outside Safari): a named box.
        var box = document.createElement("span");
        box.className = "photo-preview-none";
        box.textContent = label;
        img.replaceWith(box);
      });
      img.src = url;
      item.appendChild(img);
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  /* --- smaller files ---------------------------------------------------- */

  function jpegName(name) {
    return (name.replace(/\.[^.]*$/, "") || "photo") + ".jpg";
  }

  /* A JPEG at most MAX_EDGE wide or high, drawn from the decoded picture (so
     upright, and without EXIF: no location leaves the phone), or the file
     itself whenever that is not possible or not smaller. */
  function smaller(file) {
    if (!DRAWABLE.test(file.type) || !window.DataTransfer || !window.HTMLCanvasElement) {
      return Promise.resolve(file);
    }
    var url = URL.createObjectURL(file);
    var img = new Image();
    img.src = url;
    return img.decode()
      .then(function () {
        var width = img.naturalWidth;
        var height = img.naturalHeight;
        var scale = Math.min(1, MAX_EDGE / Math.max(width, height));
        if (!width || !height || (scale === 1 && file.size <= SMALL_ENOUGH)) return file;
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(width * scale));
        canvas.height = Math.max(1, Math.round(height * scale));
        var context = canvas.getContext("2d");
        if (!context) return file;
        context.fillStyle = "#fff"; // transparent parts of a PNG become white, not black
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.imageSmoothingQuality = "high";
        context.drawImage(img, 0, 0, canvas.width, canvas.height);
        return new Promise(function (resolve) {
          canvas.toBlob(resolve, "image/jpeg", QUALITY);
        }).then(function (blob) {
          canvas.width = canvas.height = 0; // give the memory back at once (phones)
          if (!blob || blob.size >= file.size) return file;
          return new File([blob], jpegName(file.name), {
            type: "image/jpeg",
            lastModified: file.lastModified,
          });
        });
      })
      .catch(function () {
        return file;
      })
      .finally(function () {
        URL.revokeObjectURL(url);
      });
  }

  function replaceFiles(input, files) {
    try {
      var transfer = new DataTransfer();
      files.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
      return input.files.length === files.length;
    } catch (error) {
      return false;
    }
  }

  /* --- choosing files --------------------------------------------------- */

  function chosen(field) {
    var input = fileInput(field);
    var s = state(field);
    var files = Array.prototype.slice.call(input.files || []);
    var selection = ++s.selection;
    field.classList.remove("is-preparing");
    showPreviews(field, files);
    var early = problems(field, files, false);
    showErrors(field, early);
    if (early.length || !files.length) {
      s.work = null;
      return;
    }
    field.classList.add("is-preparing");
    var work = Promise.all(files.map(smaller)).then(function (prepared) {
      if (selection !== s.selection) return; // chosen again meanwhile
      var changed = prepared.some(function (f, i) { return f !== files[i]; });
      if (!(changed && replaceFiles(input, prepared))) prepared = files;
      showErrors(field, problems(field, prepared, true));
    });
    s.work = work.catch(function () {}).finally(function () {
      if (selection !== s.selection) return;
      s.work = null;
      field.classList.remove("is-preparing");
    });
  }

  function recount(field) {
    var input = fileInput(field);
    var files = Array.prototype.slice.call((input && input.files) || []);
    showErrors(field, problems(field, files, !state(field).work));
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var field = target.closest && target.closest(FIELD);
    if (!field) return;
    if (target.type === "file") chosen(field);
    else if (target.name === "kept_photo") recount(field);
  });

  /* --- sending ---------------------------------------------------------- */

  /* Runs before htmx (capture on the document): a form waits for its photos
     to be prepared, and is not sent while a photo field shows a problem. */
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var fields = form.querySelectorAll ? form.querySelectorAll(FIELD) : [];
      for (var i = 0; i < fields.length; i++) {
        var field = fields[i];
        var s = state(field);
        if (s.work) {
          event.preventDefault();
          event.stopImmediatePropagation();
          if (!s.resubmitting) {
            s.resubmitting = true;
            var submitter = event.submitter;
            s.work.then(function () {
              s.resubmitting = false;
              if (!form.isConnected) return;
              if (form.requestSubmit) form.requestSubmit(submitter || undefined);
              else if (submitter) submitter.click();
              else form.submit();
            });
          }
          return;
        }
        if (s.invalid) {
          event.preventDefault();
          event.stopImmediatePropagation();
          var input = fileInput(field);
          if (input) input.focus();
          return;
        }
      }
    },
    true
  );

  function progressBars(form) {
    var bars = [];
    var fields = form.querySelectorAll ? form.querySelectorAll(FIELD) : [];
    Array.prototype.forEach.call(fields, function (field) {
      var input = fileInput(field);
      var bar = field.querySelector("[data-photo-progress]");
      if (bar && input && input.files && input.files.length) bars.push(bar);
    });
    return bars;
  }

  /* The upload's own progress events: htmx:xhr:progress mixes them with the
     answer's download, which would move the bar back. */
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM") return;
    var bars = progressBars(form);
    if (!bars.length) return;
    bars.forEach(function (bar) {
      bar.value = 0;
      bar.hidden = false;
    });
    event.detail.xhr.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable || !progress.total) return;
      var percent = Math.round((100 * progress.loaded) / progress.total);
      bars.forEach(function (bar) { bar.value = percent; });
    });
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.querySelectorAll) return;
    form.querySelectorAll("[data-photo-progress]").forEach(function (bar) {
      bar.hidden = true;
    });
  });

  /* The whole request was too large for the server (413 before it read the
     form): htmx swaps nothing, so say so next to the photos. */
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (!form || !form.querySelectorAll || event.detail.xhr.status !== 413) return;
    form.querySelectorAll(FIELD).forEach(function (field) {
      showErrors(field, [field.getAttribute("data-too-large")]);
    });
  });

  /* A form swapped out by htmx lets go of its previews. */
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var element = event.detail.elt;
    if (element && element.matches && element.matches(FIELD)) clearPreviews(element);
  });
})();
