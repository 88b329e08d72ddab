// Click a header to sort by it (again to reverse); empty cells stay last. Once loaded, the
// body records how many images decoded ("shown/total"), which the browser test reads.
(() => {
  for (const table of document.querySelectorAll("table.sortable")) {
    const headers = Array.from(table.tHead.rows[0].cells);
    headers.forEach((header, column) => {
      const key = (row) => {
        const cell = row.cells[column];
        const text = (cell.dataset.value ?? cell.textContent).trim();
        const value = Number(text);
        return text === "" ? null : Number.isNaN(value) ? text : value;
      };
      const sort = () => {
        const ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach((other) => other.removeAttribute("aria-sort"));
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows).sort((a, b) => {
          const x = key(a), y = key(b);
          if (x === null || y === null) return (x === null) - (y === null);
          const order = typeof x === "number" && typeof y === "number"
            ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      };
      header.tabIndex = 0;
      header.addEventListener("click", sort);
      header.addEventListener("keydown", (event) => { if (event.key === "Enter") sort(); });
    });
  }
  window.addEventListener("load", () => {
    const images = Array.from(document.images);
    const shown = images.filter((image) => image.complete && image.naturalWidth > 0);
    document.body.dataset.imagesShown = `${shown.length}/${images.length}`;
  });
})();
