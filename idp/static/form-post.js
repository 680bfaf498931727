// The form_post authorization response (OAuth 2.0 Form Post Response Mode): the page posts its
// one form to the relying party as soon as it is read. A file rather than an inline handler, so
// that the Content-Security-Policy forbids inline scripts; without scripts, the page's button
// does the same.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("reponse-autorisation");
  if (form) {
    form.submit();
  }
});
