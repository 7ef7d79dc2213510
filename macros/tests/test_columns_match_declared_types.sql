{% test columns_match_declared_types(model) %}
    {#- Contract check for models dbt cannot enforce a contract on (Python models): fails
        with one row per column that is declared in YAML but missing from the table, present
        but undeclared, or of another type than its `data_type`. Declared types must be one
        of the contract types (varchar, integer, bigint, double precision, numeric(18,4)
        (money, type_money), boolean, date, timestamp); they are compared with the adapter's
        own names for them. -#}
    {%- set adapter_names = {
        'varchar': ['varchar', 'character varying', 'text', 'string'],
        'integer': ['integer', 'int', 'int4'],
        'bigint': ['bigint', 'int8', 'long'],
        'double precision': ['double precision', 'double', 'float8'],
        'numeric(18,4)': ['numeric(18,4)', 'decimal(18,4)'],
        'boolean': ['boolean', 'bool'],
        'date': ['date'],
        'timestamp': ['timestamp', 'timestamp without time zone'],
    } -%}
    {%- set problems = [] -%}
    {%- if execute -%}
        {%- set nodes = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'model')
            | selectattr('alias', 'equalto', model.identifier)
            | selectattr('schema', 'equalto', model.schema)
            | list -%}
        {%- set declared = {} -%}
        {%- for column in (nodes[0].columns.values() if nodes else []) -%}
            {%- do declared.update({column.name | lower: (column.data_type or '') | lower}) -%}
        {%- endfor -%}
        {%- set actual = {} -%}
        {%- for column in adapter.get_columns_in_relation(model) -%}
            {%- do actual.update({column.name | lower: column.dtype | lower}) -%}
        {%- endfor -%}
        {%- for name, declared_type in declared.items() -%}
            {%- if name not in actual -%}
                {%- do problems.append((name, declared_type, 'missing')) -%}
            {%- elif actual[name] not in adapter_names.get(declared_type, []) -%}
                {%- do problems.append((name, declared_type, actual[name])) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name, actual_type in actual.items() if name not in declared -%}
            {%- do problems.append((name, 'undeclared', actual_type)) -%}
        {%- endfor -%}
    {%- endif %}
    {%- for name, declared_type, actual_type in problems %}
        select
            '{{ name }}' as column_name,
            '{{ declared_type }}' as declared_type,
            '{{ actual_type }}' as actual_type
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as declared_type,
        cast(null as {{ dbt.type_string() }}) as actual_type
    where 1 = 0
{% endtest %}
