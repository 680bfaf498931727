// The "Imprimer" button of the attestation pages. A file rather than an inline handler, so that
// a Content-Security-Policy may forbid inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("imprimer");
  if (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  }
});
