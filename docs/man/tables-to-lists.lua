-- pandoc filter for the man pages: a man page has about 80 columns, and a
-- table of keys with sentences in its cells does not fit (troff: "table
-- wider than line width"). Each row becomes a definition instead: the first
-- cell is the term; each other cell is a paragraph led by its column name.
function Table(tbl)
  local headers = {}
  if tbl.head and tbl.head.rows and tbl.head.rows[1] then
    for i, cell in ipairs(tbl.head.rows[1].cells) do
      headers[i] = pandoc.utils.stringify(cell.contents)
    end
  end
  local items = {}
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      local definition = {}
      for i = 2, #row.cells do
        local inlines = pandoc.utils.blocks_to_inlines(row.cells[i].contents)
        if #inlines > 0 then
          local para = {}
          if headers[i] and headers[i] ~= "" then
            para = {pandoc.Emph(headers[i]), pandoc.Str(":"), pandoc.Space()}
          end
          for _, x in ipairs(inlines) do table.insert(para, x) end
          table.insert(definition, pandoc.Para(para))
        end
      end
      table.insert(items, {pandoc.utils.blocks_to_inlines(row.cells[1].contents), {definition}})
    end
  end
  return pandoc.DefinitionList(items)
end
