// Lists the widget's events as the clinic's page sees them: names only,
// since the widget never sends patient data to the host page.
["goodfaith:ready", "goodfaith:submitted", "goodfaith:decided", "goodfaith:close"].forEach(function (type) {
  window.addEventListener(type, function (e) {
    var li = document.createElement("li");
    li.textContent = type + " " + JSON.stringify(e.detail || {});
    document.getElementById("events").append(li);
  });
});
